/**
 * The HTTP face: authentication, routing of /api and /apis paths to verbs, and the semantics of each
 * verb (optimistic concurrency, finalizers, cascading deletion, watch from a resourceVersion),
 * following kube-apiserver closely enough that client-node and kubectl cannot tell the difference.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, serverVersion } from './discovery.js';
import type { ResourceName, StatusCause } from './errors.js';
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  expired,
  internalError,
  invalid,
  notFound,
  StatusReason,
  staleConflict,
} from './errors.js';
import { apiVersionFromPath, openApiGroupVersion, openApiRoot } from './openapi.js';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.js';
import type { ResourceType } from './resources.js';
import { apiVersionOf, builtinTypes, storageKey, typesFromCrd } from './resources.js';
import { defaultAndPrune, unknownFields, validate } from './schema.js';
import type { Selector } from './selectors.js';
import { makeSelector } from './selectors.js';
import type { StoreEvent } from './store.js';
import { Store } from './store.js';
import type { IncludeObject } from './table.js';
import { toTable } from './table.js';
import type { Json, JsonObject, KubeObject } from './types.js';
import { canonicalJson, clone, isJsonObject } from './types.js';

/** PEM certificate and key to serve HTTPS with. */
export interface TlsMaterial {
  certPem: string;
  keyPem: string;
}

export interface ApiServerConfig {
  host: string;
  port: number;
  token: string;
  dataFile: string | undefined;
  tls: TlsMaterial | undefined;
  /** How often watches that allow bookmarks get one. */
  bookmarkIntervalMs: number;
}

const CRD_KEY = 'apiextensions.k8s.io/customresourcedefinitions';
const NS_KEY = '/namespaces';
const initialNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** A routed request: which type, which object, which subresource. */
interface Target {
  type: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

interface DeleteOptions {
  propagationPolicy: 'Orphan' | 'Background' | 'Foreground';
  preconditions: { uid?: string; resourceVersion?: string };
  dryRun: boolean;
}

function forbidden(message: string): ApiError {
  return new ApiError(403, StatusReason.Forbidden, message);
}

const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** Everything but metadata and status: what `generation` counts changes of. */
function specOf(o: KubeObject): string {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
  return canonicalJson(rest);
}

export class ApiServer {
  readonly config: ApiServerConfig;
  readonly store: Store;
  private types: ResourceType[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly watchClosers = new Set<() => void>();
  private failWrites = { n: 0, code: 500 as 409 | 500 };
  private delayMs = 0;
  port = 0;

  constructor(config: ApiServerConfig) {
    this.config = config;
    this.store = new Store(config.dataFile);
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  /** Loads state (data file or the initial namespaces), then listens. */
  async start(): Promise<void> {
    this.store.load();
    this.rebuildTypes();
    for (const ns of initialNamespaces) {
      if (!this.store.get(NS_KEY, '', ns)) {
        this.store.put(NS_KEY, {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: {
            name: ns,
            uid: randomUUID(),
            creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
          },
          spec: { finalizers: ['kubernetes'] },
          status: { phase: 'Active' },
        });
      }
    }
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((e: unknown) => this.sendError(res, e));
    };
    const tls = this.config.tls;
    const server = tls ? createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, handler) : createHttpServer(handler);
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    // No idle-timeout surprises for long watches.
    server.requestTimeout = 0;
    server.headersTimeout = 60_000;
    // Clients keep idle connections for a few seconds (Node's agent: 5 s); closing ours first
    // races a request already in flight on that socket and surfaces as ECONNRESET.
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.port, this.config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    if (addr && typeof addr === 'object') this.port = addr.port;
    this.config.port = this.port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.dropWatches();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  // ---- faults ----------------------------------------------------------------------------------

  failNextWrites(n: number, code: 409 | 500): void {
    this.failWrites = { n, code };
  }

  dropWatches(): void {
    for (const close of [...this.watchClosers]) close();
  }

  compact(): void {
    this.store.compact();
  }

  setDelay(ms: number): void {
    this.delayMs = ms;
  }

  // ---- types -----------------------------------------------------------------------------------

  private rebuildTypes(): void {
    const types = builtinTypes();
    for (const crd of this.store.list(CRD_KEY)) {
      if (crd.metadata.deletionTimestamp) continue;
      for (const t of typesFromCrd(crd)) {
        if (!types.some((x) => x.group === t.group && x.version === t.version && x.resource === t.resource))
          types.push(t);
      }
    }
    this.types = types;
  }

  private findType(group: string, version: string, resource: string): ResourceType | undefined {
    return this.types.find((t) => t.group === group && t.version === version && t.resource === resource);
  }

  // ---- HTTP plumbing ---------------------------------------------------------------------------

  private send(res: ServerResponse, code: number, body: unknown): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  private sendError(res: ServerResponse, e: unknown): void {
    const err = e instanceof ApiError ? e : internalError(e instanceof Error ? e.message : String(e));
    this.send(res, err.code, err.toStatus());
  }

  private async readBody(req: IncomingMessage): Promise<Json | undefined> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    if (text.trim() === '') return undefined;
    const ct = req.headers['content-type'] ?? '';
    if (ct.includes('protobuf') || ct.includes('cbor')) {
      // Only JSON and YAML bodies are understood; 415 tells client-go to fall back to JSON.
      throw new ApiError(
        415,
        StatusReason.UnsupportedMediaType,
        `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`,
      );
    }
    try {
      return (ct.includes('yaml') ? parseYaml(text) : JSON.parse(text)) as Json;
    } catch (e) {
      throw badRequest(`the body of the request could not be decoded: ${(e as Error).message}`);
    }
  }

  private authenticated(req: IncomingMessage): boolean {
    const h = req.headers.authorization ?? '';
    return h === `Bearer ${this.config.token}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (!this.authenticated(req)) {
      throw new ApiError(401, StatusReason.Unauthorized, 'Unauthorized');
    }
    const url = new URL(req.url ?? '/', 'http://x');
    const segs = url.pathname
      .split('/')
      .filter((s) => s.length > 0)
      .map(decodeURIComponent);
    const method = req.method ?? 'GET';
    const q = url.searchParams;

    // Non-resource paths.
    if (segs.length === 0) return this.send(res, 200, { paths: ['/api', '/api/v1', '/apis', '/version', '/healthz'] });
    const first = segs[0];
    if (first === 'version') return this.send(res, 200, serverVersion);
    if (first === 'healthz' || first === 'livez' || first === 'readyz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
      return;
    }
    if (first === 'openapi') {
      if (segs[1] === 'v3' && segs.length === 2) return this.send(res, 200, openApiRoot(this.types));
      const gv = segs[1] === 'v3' ? apiVersionFromPath(segs.slice(2)) : undefined;
      const doc = gv ? openApiGroupVersion(this.types, gv.group, gv.version) : undefined;
      if (!doc) throw new ApiError(404, StatusReason.NotFound, 'the server could not find the requested resource');
      return this.send(res, 200, doc);
    }
    if (first === 'api' && segs.length === 1) {
      const host = req.headers.host ?? `${this.config.host}:${this.port}`;
      return this.send(res, 200, apiVersions(host));
    }
    if (first === 'apis' && segs.length === 1) return this.send(res, 200, apiGroupList(this.types));
    if (first === 'apis' && segs.length === 2) {
      const g = apiGroup(this.types, segs[1]!);
      if (!g) throw new ApiError(404, StatusReason.NotFound, 'the server could not find the requested resource');
      return this.send(res, 200, g);
    }
    let group: string;
    let version: string;
    let rest: string[];
    if (first === 'api' && segs.length >= 2) {
      group = '';
      version = segs[1]!;
      rest = segs.slice(2);
    } else if (first === 'apis' && segs.length >= 3) {
      group = segs[1]!;
      version = segs[2]!;
      rest = segs.slice(3);
    } else {
      throw new ApiError(404, StatusReason.NotFound, 'the server could not find the requested resource');
    }
    if (rest.length === 0) {
      const list = apiResourceList(this.types, group, version);
      if (!list) throw new ApiError(404, StatusReason.NotFound, 'the server could not find the requested resource');
      return this.send(res, 200, list);
    }
    // Legacy /watch/ prefix.
    let watchPath = false;
    if (rest[0] === 'watch') {
      watchPath = true;
      rest = rest.slice(1);
    }
    const target = this.route(group, version, rest);
    const isWatch = watchPath || q.get('watch') === 'true' || q.get('watch') === '1';
    const wantTable = (req.headers.accept ?? '').includes('as=Table');
    // Unknown fields are pruned silently unless the client asks for strict validation (kubectl does).
    const strict = q.get('fieldValidation') === 'Strict';

    if (target.name === undefined) {
      if (method === 'GET' && isWatch) return this.watch(req, res, target, q, wantTable);
      if (method === 'GET') return this.send(res, 200, this.list(target, q, wantTable));
      if (method === 'POST') {
        this.checkWriteFault(target, undefined);
        const body = await this.readBody(req);
        const created = this.create(target, body, q.get('dryRun') === 'All', strict);
        return this.send(res, 201, created);
      }
      if (method === 'DELETE') {
        this.checkWriteFault(target, undefined);
        const opts = this.deleteOptions(await this.readBody(req), q);
        return this.send(res, 200, this.deleteCollection(target, q, opts));
      }
      throw new ApiError(
        405,
        StatusReason.MethodNotAllowed,
        `the server does not allow this method on the requested resource`,
      );
    }
    const name = target.name;
    if (method === 'GET' && isWatch) {
      // Watching one object: a watch of the collection restricted by name, as kube-apiserver does.
      const q2 = new URLSearchParams(q);
      q2.set('fieldSelector', [q.get('fieldSelector'), `metadata.name=${name}`].filter(Boolean).join(','));
      return this.watch(req, res, { ...target, name: undefined }, q2, wantTable);
    }
    if (method === 'GET') {
      const obj = this.get(target);
      if (wantTable)
        return this.send(
          res,
          200,
          this.table(target.type, [obj], { resourceVersion: obj.metadata.resourceVersion ?? '' }, q),
        );
      return this.send(res, 200, obj);
    }
    if (method === 'PUT') {
      this.checkWriteFault(target, name);
      const body = await this.readBody(req);
      return this.send(res, 200, this.update(target, body, q.get('dryRun') === 'All', strict));
    }
    if (method === 'PATCH') {
      this.checkWriteFault(target, name);
      const body = await this.readBody(req);
      return this.send(
        res,
        200,
        this.patch(target, body, req.headers['content-type'] ?? '', q.get('dryRun') === 'All', strict),
      );
    }
    if (method === 'DELETE') {
      this.checkWriteFault(target, name);
      const opts = this.deleteOptions(await this.readBody(req), q);
      return this.send(res, 200, this.delete(target, opts));
    }
    throw new ApiError(
      405,
      StatusReason.MethodNotAllowed,
      'the server does not allow this method on the requested resource',
    );
  }

  private route(group: string, version: string, rest: string[]): Target {
    const nf = () => new ApiError(404, StatusReason.NotFound, 'the server could not find the requested resource');
    let namespace: string | undefined;
    let parts = rest;
    // namespaces/NS/RESOURCE/... is a namespaced path, unless it is the namespace's own subresource.
    if (
      group === '' &&
      rest[0] === 'namespaces' &&
      rest.length >= 3 &&
      !(rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))
    ) {
      namespace = rest[1];
      parts = rest.slice(2);
    } else if (group !== '' && rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      parts = rest.slice(2);
    }
    const [resource, name, subresource, extra] = parts;
    if (resource === undefined || extra !== undefined) throw nf();
    const type = this.findType(group, version, resource);
    if (!type) throw nf();
    if (namespace !== undefined && !type.namespaced) throw nf();
    if (
      subresource !== undefined &&
      !(subresource === 'status' && type.statusSubresource) &&
      !(subresource === 'finalize' && resource === 'namespaces')
    ) {
      throw nf();
    }
    return { type, namespace, name, subresource };
  }

  private checkWriteFault(target: Target, name: string | undefined): void {
    if (this.failWrites.n <= 0) return;
    this.failWrites.n--;
    const rn = this.rn(target.type);
    if (this.failWrites.code === 409)
      throw conflict(rn, name ?? '', 'injected conflict (tortie-apiserver fault injection)');
    throw internalError('injected failure (tortie-apiserver fault injection)');
  }

  private rn(t: ResourceType): ResourceName {
    return { group: t.group, resource: t.resource, kind: t.kind };
  }

  /** The object as served at the requested version. */
  private out(t: ResourceType, o: KubeObject): KubeObject {
    return { ...o, apiVersion: apiVersionOf(t), kind: t.kind };
  }

  private table(t: ResourceType, objs: KubeObject[], meta: JsonObject, q: URLSearchParams): JsonObject {
    const include = (q.get('includeObject') ?? 'PartialObjectMetadata') as IncludeObject;
    return toTable(
      t.printerColumns,
      objs.map((o) => this.out(t, o)),
      meta,
      include,
      t.crd ? null : '<none>',
    );
  }

  // ---- reads -----------------------------------------------------------------------------------

  private get(target: Target): KubeObject {
    const { type } = target;
    const obj = this.store.get(storageKey(type), target.namespace ?? '', target.name ?? '');
    if (!obj) throw notFound(this.rn(type), target.name ?? '');
    return this.out(type, obj);
  }

  private selector(q: URLSearchParams): Selector {
    return makeSelector(q.get('labelSelector'), q.get('fieldSelector'));
  }

  private list(target: Target, q: URLSearchParams, wantTable: boolean): JsonObject {
    const { type } = target;
    const sel = this.selector(q);
    let items = this.store.list(storageKey(type), target.namespace).filter((o) => sel.matches(o));
    const rv = String(this.store.resourceVersion);
    const meta: JsonObject = { resourceVersion: rv };
    const cont = q.get('continue');
    if (cont) {
      let after: string;
      try {
        const parsed = JSON.parse(Buffer.from(cont, 'base64url').toString('utf8')) as { after?: unknown; rv?: unknown };
        if (typeof parsed.after !== 'string' || typeof parsed.rv !== 'number') throw new Error('bad token');
        if (parsed.rv < this.store.oldestWatchableVersion) {
          throw expired(
            'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
          );
        }
        after = parsed.after;
      } catch (e) {
        if (e instanceof ApiError) throw e;
        throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
      }
      items = items.filter((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}` > after);
    }
    const limit = Number(q.get('limit') ?? '0');
    if (limit > 0 && items.length > limit) {
      const remaining = items.length - limit;
      items = items.slice(0, limit);
      const last = items[items.length - 1]!;
      meta.continue = Buffer.from(
        JSON.stringify({
          rv: this.store.resourceVersion,
          after: `${last.metadata.namespace ?? ''}/${last.metadata.name ?? ''}`,
        }),
      ).toString('base64url');
      meta.remainingItemCount = remaining;
    }
    if (wantTable) return this.table(type, items, meta, q);
    // Like kube-apiserver's JSON, items of built-in lists carry no kind/apiVersion; CR lists do.
    const out = items.map((o) => (type.crd ? this.out(type, o) : { ...o, apiVersion: undefined, kind: undefined }));
    return {
      kind: type.listKind,
      apiVersion: apiVersionOf(type),
      metadata: meta,
      items: out as unknown as Json[],
    };
  }

  private watch(
    req: IncomingMessage,
    res: ServerResponse,
    target: Target,
    q: URLSearchParams,
    wantTable: boolean,
  ): void {
    const { type } = target;
    const key = storageKey(type);
    const sel = this.selector(q);
    const inScope = (o: KubeObject) => target.namespace === undefined || o.metadata.namespace === target.namespace;
    const matches = (o: KubeObject | undefined) => o !== undefined && inScope(o) && sel.matches(o);
    const rvParam = q.get('resourceVersion') ?? '';
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Transfer-Encoding': 'chunked',
      'Cache-Control': 'no-cache',
    });
    res.flushHeaders();
    const sendEvent = (evType: string, obj: KubeObject | JsonObject) => {
      const object =
        wantTable && evType !== 'ERROR' && evType !== 'BOOKMARK'
          ? this.table(
              type,
              [obj as KubeObject],
              { resourceVersion: (obj as KubeObject).metadata.resourceVersion ?? '' },
              q,
            )
          : evType === 'ERROR' || evType === 'BOOKMARK'
            ? obj
            : this.out(type, obj as KubeObject);
      res.write(`${JSON.stringify({ type: evType, object })}\n`);
    };
    const deliver = (ev: StoreEvent) => {
      const now = matches(ev.object);
      const before = matches(ev.old);
      if (ev.type === 'ADDED' && now) sendEvent('ADDED', ev.object);
      else if (ev.type === 'MODIFIED') {
        if (now && before) sendEvent('MODIFIED', ev.object);
        else if (now) sendEvent('ADDED', ev.object);
        else if (before) sendEvent('DELETED', ev.object);
      } else if (ev.type === 'DELETED' && (now || before)) sendEvent('DELETED', ev.object);
    };

    if (rvParam === '' || rvParam === '0') {
      // "Get state and start at most recent": synthetic ADDED for what exists now.
      for (const o of this.store.list(key, target.namespace)) if (matches(o)) sendEvent('ADDED', o);
    } else {
      const from = Number(rvParam);
      if (!Number.isInteger(from) || from < 0) {
        res.end();
        return;
      }
      const backlog = this.store.eventsSince(key, from);
      if (!backlog) {
        const err = expired(`too old resource version: ${from} (${this.store.oldestWatchableVersion})`);
        sendEvent('ERROR', err.toStatus() as unknown as JsonObject);
        res.end();
        return;
      }
      for (const ev of backlog) deliver(ev);
    }
    const unsubscribe = this.store.subscribe({ key, deliver });
    const timers: NodeJS.Timeout[] = [];
    if (q.get('allowWatchBookmarks') === 'true') {
      timers.push(
        setInterval(() => {
          sendEvent('BOOKMARK', {
            kind: type.kind,
            apiVersion: apiVersionOf(type),
            metadata: { resourceVersion: String(this.store.resourceVersion) },
          });
        }, this.config.bookmarkIntervalMs),
      );
    }
    const timeoutSeconds = Number(q.get('timeoutSeconds') ?? '0');
    const close = () => {
      unsubscribe();
      for (const t of timers) clearInterval(t);
      this.watchClosers.delete(close);
      if (!res.writableEnded) res.end();
    };
    if (timeoutSeconds > 0) timers.push(setTimeout(close, timeoutSeconds * 1000));
    this.watchClosers.add(close);
    req.on('close', close);
    res.on('close', close);
  }

  // ---- writes ----------------------------------------------------------------------------------

  private checkKind(t: ResourceType, body: Json | undefined): KubeObject {
    if (!isJsonObject(body)) throw badRequest('the body of the request must be a JSON object');
    if (body.kind !== undefined && body.kind !== t.kind) {
      throw badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (${t.kind})`);
    }
    if (body.apiVersion !== undefined && body.apiVersion !== apiVersionOf(t)) {
      throw badRequest(
        `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersionOf(t)})`,
      );
    }
    const metadata = isJsonObject(body.metadata) ? body.metadata : {};
    return { ...body, metadata } as KubeObject;
  }

  private validateMeta(t: ResourceType, obj: KubeObject): StatusCause[] {
    const name = obj.metadata.name ?? '';
    const causes: StatusCause[] = [];
    const re = t.resource === 'namespaces' ? dns1123Label : dns1123Subdomain;
    const max = t.resource === 'namespaces' ? 63 : 253;
    if (name === '')
      causes.push({
        reason: 'FieldValueRequired',
        message: 'Required value: name or generateName is required',
        field: 'metadata.name',
      });
    else if (!re.test(name) || name.length > max) {
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: "${name}": a lowercase RFC 1123 ${t.resource === 'namespaces' ? 'label' : 'subdomain'} must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
        field: 'metadata.name',
      });
    }
    for (const [field, m] of [
      ['metadata.labels', obj.metadata.labels],
      ['metadata.annotations', obj.metadata.annotations],
    ] as const) {
      if (m === undefined) continue;
      if (!isJsonObject(m as Json) || Object.values(m).some((v) => typeof v !== 'string')) {
        causes.push({ reason: 'FieldValueTypeInvalid', message: 'Invalid value: must be a map of strings', field });
      }
    }
    return causes;
  }

  /** CR schema (defaulting, pruning, validation) and the CRD's own checks; throws 422 with every cause. */
  private admit(t: ResourceType, obj: KubeObject, strict = false): KubeObject {
    const causes = this.validateMeta(t, obj);
    let out = obj;
    if (t.schema && strict) {
      const unknown = unknownFields(t.schema, obj as unknown as Json);
      if (unknown.length > 0) {
        throw badRequest(`strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`);
      }
    }
    if (t.schema) {
      out = defaultAndPrune(t.schema, obj as unknown as Json) as unknown as KubeObject;
      causes.push(...validate(t.schema, out as unknown as Json));
    }
    if (storageKey(t) === CRD_KEY) causes.push(...this.validateCrd(out));
    if (causes.length > 0) throw invalid(this.rn(t), obj.metadata.name ?? '', causes);
    return out;
  }

  private validateCrd(crd: KubeObject): StatusCause[] {
    const causes: StatusCause[] = [];
    const spec = isJsonObject(crd.spec) ? crd.spec : {};
    const names = isJsonObject(spec.names) ? spec.names : {};
    const req = (field: string, ok: boolean) => {
      if (!ok) causes.push({ reason: 'FieldValueRequired', message: 'Required value', field });
    };
    req('spec.group', typeof spec.group === 'string' && spec.group !== '');
    req('spec.names.plural', typeof names.plural === 'string' && names.plural !== '');
    req('spec.names.kind', typeof names.kind === 'string' && names.kind !== '');
    if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') {
      causes.push({
        reason: 'FieldValueNotSupported',
        message: `Unsupported value: ${JSON.stringify(spec.scope ?? '')}: supported values: "Cluster", "Namespaced"`,
        field: 'spec.scope',
      });
    }
    const versions = Array.isArray(spec.versions) ? spec.versions : [];
    if (versions.length === 0)
      causes.push({
        reason: 'FieldValueInvalid',
        message: 'Invalid value: must have exactly one version marked as storage version',
        field: 'spec.versions',
      });
    else if (versions.filter((v) => isJsonObject(v) && v.storage === true).length !== 1) {
      causes.push({
        reason: 'FieldValueInvalid',
        message: 'Invalid value: must have exactly one version marked as storage version',
        field: 'spec.versions',
      });
    }
    const want = `${String(names.plural ?? '')}.${String(spec.group ?? '')}`;
    if (causes.length === 0 && crd.metadata.name !== want) {
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: "${crd.metadata.name ?? ''}": must be spec.names.plural+"."+spec.group`,
        field: 'metadata.name',
      });
    }
    return causes;
  }

  private now(): string {
    return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  }

  private create(target: Target, body: Json | undefined, dryRun: boolean, strict: boolean): KubeObject {
    const { type } = target;
    let obj = this.checkKind(type, body);
    const meta = obj.metadata;
    if (type.namespaced) {
      const ns = target.namespace;
      if (ns === undefined)
        throw new ApiError(404, StatusReason.NotFound, 'the server could not find the requested resource');
      if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== ns) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = ns;
      const nsObj = this.store.get(NS_KEY, '', ns);
      if (!nsObj) throw notFound({ group: '', resource: 'namespaces', kind: 'Namespace' }, ns);
      if (nsObj.metadata.deletionTimestamp) {
        throw forbidden(
          `${type.resource} "${meta.name ?? meta.generateName ?? ''}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`,
        );
      }
    } else {
      delete meta.namespace;
    }
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== '') {
      throw internalError('resourceVersion should not be set on objects to be created');
    }
    if ((meta.name === undefined || meta.name === '') && meta.generateName) {
      const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
      const bytes = randomBytes(5);
      meta.name = meta.generateName + [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
    }
    meta.uid = randomUUID();
    meta.creationTimestamp = this.now();
    meta.generation = 1;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.resourceVersion;
    if (type.statusOnCreate === 'drop') delete obj.status;
    else if (type.statusOnCreate !== 'keep') obj.status = clone(type.statusOnCreate);
    obj.apiVersion = apiVersionOf(type);
    obj.kind = type.kind;
    obj = this.admit(type, obj, strict);
    if (storageKey(type) === CRD_KEY) obj.status = this.crdStatus(obj);
    const key = storageKey(type);
    if (this.store.get(key, meta.namespace ?? '', meta.name ?? '')) throw alreadyExists(this.rn(type), meta.name ?? '');
    if (dryRun) return this.out(type, obj);
    const stored = this.store.put(key, obj);
    if (key === CRD_KEY) this.rebuildTypes();
    return this.out(type, stored);
  }

  private crdStatus(crd: KubeObject): JsonObject {
    const spec = isJsonObject(crd.spec) ? crd.spec : {};
    const t = this.now();
    const storage = (Array.isArray(spec.versions) ? spec.versions : []).find(
      (v) => isJsonObject(v) && v.storage === true,
    );
    return {
      acceptedNames: isJsonObject(spec.names) ? spec.names : {},
      conditions: [
        {
          type: 'NamesAccepted',
          status: 'True',
          lastTransitionTime: t,
          reason: 'NoConflicts',
          message: 'no conflicts found',
        },
        {
          type: 'Established',
          status: 'True',
          lastTransitionTime: t,
          reason: 'InitialNamesAccepted',
          message: 'the initial names have been accepted',
        },
      ],
      storedVersions: isJsonObject(storage) && typeof storage.name === 'string' ? [storage.name] : [],
    };
  }

  /** Shared by PUT and PATCH: `incoming` is the whole desired object. */
  private applyUpdate(
    target: Target,
    existing: KubeObject,
    incoming: KubeObject,
    dryRun: boolean,
    requireRv: boolean,
    strict: boolean,
  ): KubeObject {
    const { type } = target;
    const rn = this.rn(type);
    const name = target.name ?? '';
    const key = storageKey(type);
    if (incoming.metadata.name !== undefined && incoming.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${incoming.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    const rv = incoming.metadata.resourceVersion;
    if (rv === undefined || rv === '') {
      // Custom resources refuse unconditional updates (customResourceStrategy.AllowUnconditionalUpdate is false).
      if (requireRv && type.crd) {
        throw invalid(rn, name, [
          {
            reason: 'FieldValueInvalid',
            message: 'Invalid value: 0x0: must be specified for an update',
            field: 'metadata.resourceVersion',
          },
        ]);
      }
    } else if (rv !== existing.metadata.resourceVersion) {
      throw staleConflict(rn, name);
    }
    let next: KubeObject;
    if (target.subresource === 'status') {
      // The status subresource changes status only.
      next = clone(existing);
      if (incoming.status === undefined) delete next.status;
      else next.status = incoming.status;
    } else {
      next = clone(incoming);
      next.metadata = { ...incoming.metadata };
      if (type.statusSubresource && storageKey(type) !== NS_KEY) {
        if (existing.status === undefined) delete next.status;
        else next.status = existing.status;
      }
      // Fields the server owns.
      const m = next.metadata;
      const e = existing.metadata;
      for (const f of ['name', 'namespace', 'uid', 'creationTimestamp'] as const) {
        if (e[f] !== undefined) m[f] = e[f];
        else delete m[f];
      }
      if (e.deletionTimestamp) {
        m.deletionTimestamp = e.deletionTimestamp;
        m.deletionGracePeriodSeconds = 0;
      } else {
        delete m.deletionTimestamp;
        delete m.deletionGracePeriodSeconds;
      }
      m.generation = e.generation ?? 1;
    }
    next.apiVersion = apiVersionOf(type);
    next.kind = type.kind;
    if (existing.metadata.resourceVersion !== undefined)
      next.metadata.resourceVersion = existing.metadata.resourceVersion;
    next = this.admit(type, next, strict);
    if (key === CRD_KEY && target.subresource !== 'status') next.status = existing.status ?? this.crdStatus(next);
    if (specOf(next) !== specOf(existing)) next.metadata.generation = (existing.metadata.generation ?? 1) + 1;
    // A no-op write does not bump resourceVersion and sends no event, as in kube-apiserver.
    const normalize = (o: KubeObject) => ({ ...o, apiVersion: undefined, kind: undefined });
    if (sameJson(normalize(next), normalize(existing))) return this.out(type, existing);
    if (dryRun) return this.out(type, next);
    if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
      return this.out(type, this.finalize(type, next));
    }
    const stored = this.store.put(key, next);
    if (key === CRD_KEY) this.rebuildTypes();
    return this.out(type, stored);
  }

  private existing(target: Target): KubeObject {
    const obj = this.store.get(storageKey(target.type), target.namespace ?? '', target.name ?? '');
    if (!obj) throw notFound(this.rn(target.type), target.name ?? '');
    return obj;
  }

  private update(target: Target, body: Json | undefined, dryRun: boolean, strict: boolean): KubeObject {
    const incoming = this.checkKind(target.type, body);
    if (target.type.namespaced && incoming.metadata.namespace && incoming.metadata.namespace !== target.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    return this.applyUpdate(target, this.existing(target), incoming, dryRun, true, strict);
  }

  private patch(
    target: Target,
    body: Json | undefined,
    contentType: string,
    dryRun: boolean,
    strict: boolean,
  ): KubeObject {
    const existing = this.existing(target);
    const base = this.out(target.type, existing) as unknown as Json;
    const ct = contentType.split(';')[0]!.trim();
    let patched: Json;
    if (body === undefined) throw badRequest('the body of the request was empty');
    if (ct === 'application/merge-patch+json') patched = mergePatch(base, body);
    else if (ct === 'application/json-patch+json') patched = jsonPatch(base, body);
    else if (ct === 'application/strategic-merge-patch+json' && target.type.strategicMerge)
      patched = strategicMergePatch(base, body);
    else {
      const accepted = target.type.strategicMerge
        ? 'application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json'
        : 'application/json-patch+json, application/merge-patch+json';
      throw new ApiError(
        415,
        StatusReason.UnsupportedMediaType,
        `the body of the request was in an unknown format - accepted media types include: ${accepted}`,
      );
    }
    if (!isJsonObject(patched)) throw badRequest('the patched object is not a JSON object');
    const incoming = this.checkKind(target.type, patched);
    // A patch without a resourceVersion applies to whatever is current; with one, it is a precondition.
    return this.applyUpdate(target, existing, incoming, dryRun, false, strict);
  }

  private deleteOptions(body: Json | undefined, q: URLSearchParams): DeleteOptions {
    const b = isJsonObject(body) ? body : {};
    const policy =
      (typeof b.propagationPolicy === 'string' ? b.propagationPolicy : q.get('propagationPolicy')) ?? 'Background';
    const orphan = b.orphanDependents === true || q.get('orphanDependents') === 'true';
    const pre = isJsonObject(b.preconditions) ? b.preconditions : {};
    const preconditions: DeleteOptions['preconditions'] = {};
    if (typeof pre.uid === 'string') preconditions.uid = pre.uid;
    if (typeof pre.resourceVersion === 'string') preconditions.resourceVersion = pre.resourceVersion;
    const dryRunBody = Array.isArray(b.dryRun) && b.dryRun.includes('All');
    return {
      propagationPolicy: orphan ? 'Orphan' : policy === 'Orphan' || policy === 'Foreground' ? policy : 'Background',
      preconditions,
      dryRun: dryRunBody || q.get('dryRun') === 'All',
    };
  }

  private delete(target: Target, opts: DeleteOptions): KubeObject {
    const { type } = target;
    const existing = this.existing(target);
    const rn = this.rn(type);
    const name = target.name ?? '';
    if (opts.preconditions.uid !== undefined && opts.preconditions.uid !== existing.metadata.uid) {
      throw conflict(
        rn,
        name,
        `Precondition failed: UID in precondition: ${opts.preconditions.uid}, UID in object meta: ${existing.metadata.uid ?? ''}`,
      );
    }
    if (
      opts.preconditions.resourceVersion !== undefined &&
      opts.preconditions.resourceVersion !== existing.metadata.resourceVersion
    ) {
      throw conflict(
        rn,
        name,
        `Precondition failed: ResourceVersion in precondition: ${opts.preconditions.resourceVersion}, ResourceVersion in object meta: ${existing.metadata.resourceVersion ?? ''}`,
      );
    }
    if (opts.dryRun) return this.out(type, existing);
    return this.out(type, this.deleteObject(type, existing, opts.propagationPolicy));
  }

  /** Marks for deletion (finalizers pending) or removes now. */
  private deleteObject(type: ResourceType, obj: KubeObject, policy: DeleteOptions['propagationPolicy']): KubeObject {
    const key = storageKey(type);
    const pendingFinalizers = (obj.metadata.finalizers ?? []).length > 0;
    // Namespaces terminate: mark, delete the contents, and go once the contents are gone.
    if (key === NS_KEY) {
      if (obj.metadata.deletionTimestamp) return obj;
      const marked = clone(obj);
      marked.metadata.deletionTimestamp = this.now();
      marked.metadata.deletionGracePeriodSeconds = 0;
      marked.status = { phase: 'Terminating' };
      const stored = this.store.put(key, marked);
      const nsName = obj.metadata.name ?? '';
      for (const t of this.types) {
        if (!t.namespaced || this.types.find((x) => storageKey(x) === storageKey(t)) !== t) continue;
        for (const o of this.store.list(storageKey(t), nsName)) this.deleteObject(t, o, 'Background');
      }
      return this.maybeFinishNamespace(nsName) ?? stored;
    }
    if (pendingFinalizers) {
      if (obj.metadata.deletionTimestamp) return obj;
      const marked = clone(obj);
      marked.metadata.deletionTimestamp = this.now();
      marked.metadata.deletionGracePeriodSeconds = 0;
      if (policy === 'Orphan') this.orphanDependents(obj);
      return this.store.put(key, marked);
    }
    if (policy === 'Orphan') this.orphanDependents(obj);
    return this.finalize(type, obj);
  }

  /** Removes an object for good, then what depended on it (garbage collection) and, for CRDs, its objects. */
  private finalize(type: ResourceType, obj: KubeObject): KubeObject {
    const key = storageKey(type);
    const gone = this.store.remove(key, obj);
    if (key === CRD_KEY) {
      const served = typesFromCrd(obj);
      const first = served[0];
      if (first) for (const o of this.store.list(storageKey(first))) this.store.remove(storageKey(first), o);
      this.rebuildTypes();
    }
    const uid = obj.metadata.uid;
    if (uid) {
      for (const t of this.uniqueTypes()) {
        for (const o of this.store.list(storageKey(t))) {
          if ((o.metadata.ownerReferences ?? []).some((r) => r.uid === uid)) this.deleteObject(t, o, 'Background');
        }
      }
    }
    const ns = obj.metadata.namespace;
    if (ns) this.maybeFinishNamespace(ns);
    return gone;
  }

  private uniqueTypes(): ResourceType[] {
    const seen = new Set<string>();
    return this.types.filter((t) => {
      const k = storageKey(t);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  }

  private orphanDependents(owner: KubeObject): void {
    const uid = owner.metadata.uid;
    for (const t of this.uniqueTypes()) {
      for (const o of this.store.list(storageKey(t))) {
        const refs = o.metadata.ownerReferences ?? [];
        if (!refs.some((r) => r.uid === uid)) continue;
        const next = clone(o);
        next.metadata.ownerReferences = refs.filter((r) => r.uid !== uid);
        this.store.put(storageKey(t), next);
      }
    }
  }

  private maybeFinishNamespace(name: string): KubeObject | undefined {
    const ns = this.store.get(NS_KEY, '', name);
    if (!ns?.metadata.deletionTimestamp) return undefined;
    for (const t of this.uniqueTypes())
      if (t.namespaced && this.store.list(storageKey(t), name).length > 0) return undefined;
    return this.store.remove(NS_KEY, ns);
  }

  private deleteCollection(target: Target, q: URLSearchParams, opts: DeleteOptions): JsonObject {
    const { type } = target;
    const sel = this.selector(q);
    const items = this.store.list(storageKey(type), target.namespace).filter((o) => sel.matches(o));
    const deleted = opts.dryRun ? items : items.map((o) => this.deleteObject(type, o, opts.propagationPolicy));
    return {
      kind: type.listKind,
      apiVersion: apiVersionOf(type),
      metadata: { resourceVersion: String(this.store.resourceVersion) },
      items: deleted.map((o) => this.out(type, o)) as unknown as Json[],
    };
  }
}
