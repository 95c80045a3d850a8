/**
 * Kubernetes `Status` errors. Every failure the server returns is one of these, with the `reason`
 * and HTTP code that kube-apiserver gives for the same condition, because client-node and kubectl
 * branch on them (409 Conflict vs AlreadyExists, 410 Expired on watch, 422 Invalid with causes).
 */

export const StatusReason = {
  BadRequest: 'BadRequest',
  Unauthorized: 'Unauthorized',
  Forbidden: 'Forbidden',
  NotFound: 'NotFound',
  AlreadyExists: 'AlreadyExists',
  Conflict: 'Conflict',
  Gone: 'Gone',
  Expired: 'Expired',
  Invalid: 'Invalid',
  MethodNotAllowed: 'MethodNotAllowed',
  NotAcceptable: 'NotAcceptable',
  UnsupportedMediaType: 'UnsupportedMediaType',
  InternalError: 'InternalError',
  Timeout: 'Timeout',
} as const;
export type StatusReason = (typeof StatusReason)[keyof typeof StatusReason];

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface StatusObject {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason: string;
  details?: StatusDetails;
  code: number;
}

/** A failed API request; `toStatus()` is exactly what goes on the wire. */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: StatusReason;
  readonly details: StatusDetails | undefined;

  constructor(code: number, reason: StatusReason, message: string, details?: StatusDetails) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  toStatus(): StatusObject {
    const s: StatusObject = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) s.details = this.details;
    return s;
  }
}

/** How the real server names a resource in messages: `pods`, `ippools.tortie.io`. */
export interface ResourceName {
  group: string;
  resource: string;
  kind: string;
}

function qualified(r: ResourceName): string {
  return r.group ? `${r.resource}.${r.group}` : r.resource;
}

export function notFound(r: ResourceName, name: string): ApiError {
  return new ApiError(404, StatusReason.NotFound, `${qualified(r)} "${name}" not found`, {
    name,
    group: r.group,
    kind: r.resource,
  });
}

export function alreadyExists(r: ResourceName, name: string): ApiError {
  return new ApiError(409, StatusReason.AlreadyExists, `${qualified(r)} "${name}" already exists`, {
    name,
    group: r.group,
    kind: r.resource,
  });
}

export function conflict(r: ResourceName, name: string, why: string): ApiError {
  return new ApiError(
    409,
    StatusReason.Conflict,
    `Operation cannot be fulfilled on ${qualified(r)} "${name}": ${why}`,
    { name, group: r.group, kind: r.resource },
  );
}

export function staleConflict(r: ResourceName, name: string): ApiError {
  return conflict(
    r,
    name,
    'the object has been modified; please apply your changes to the latest version and try again',
  );
}

export function invalid(r: ResourceName, name: string, causes: StatusCause[]): ApiError {
  const list = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const joined = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
  const prefix = r.group ? `${r.kind}.${r.group}` : r.kind;
  return new ApiError(422, StatusReason.Invalid, `${prefix} "${name}" is invalid: ${joined}`, {
    name,
    group: r.group,
    kind: r.kind,
    causes,
  });
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, StatusReason.BadRequest, message);
}

export function expired(message: string): ApiError {
  return new ApiError(410, StatusReason.Expired, message);
}

export function internalError(message: string): ApiError {
  return new ApiError(500, StatusReason.InternalError, `Internal error occurred: ${message}`);
}
