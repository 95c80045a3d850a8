import * as k8s from '@kubernetes/client-node';
import type { RunningApiServer } from '../src/index.js';

export function clientFor(server: RunningApiServer): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(server.kubeconfigPath);
  return kc;
}

/** The HTTP status of a failed client-node call, and its Status body. */
export async function failure(p: Promise<unknown>): Promise<{ code: number; status: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof k8s.ApiException) {
      return { code: e.code, status: JSON.parse(String(e.body)) as Record<string, unknown> };
    }
    throw e;
  }
  throw new Error('expected the call to fail, it succeeded');
}

export async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const poolCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.test.tortie.dev' },
  spec: {
    group: 'test.tortie.dev',
    names: { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList', shortNames: ['wd'] },
    scope: 'Namespaced',
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: [
          { name: 'CIDR', type: 'string', jsonPath: '.spec.cidr' },
          { name: 'Size', type: 'integer', jsonPath: '.spec.size' },
        ],
        schema: {
          openAPIV3Schema: {
            type: 'object',
            required: ['spec'],
            properties: {
              apiVersion: { type: 'string' },
              kind: { type: 'string' },
              metadata: { type: 'object' },
              spec: {
                type: 'object',
                required: ['cidr'],
                properties: {
                  cidr: { type: 'string', format: 'cidr' },
                  size: { type: 'integer', minimum: 20, maximum: 32, default: 26 },
                  mode: { type: 'string', enum: ['Always', 'CrossSubnet', 'Never'] },
                  name: { type: 'string', pattern: '^[a-z]+$' },
                  tags: { type: 'array', items: { type: 'string' }, maxItems: 3 },
                },
              },
              status: { type: 'object', properties: { used: { type: 'integer' } } },
            },
          },
        },
      },
    ],
  },
};

/** A raw authenticated request (typed client-node models would rename fields such as `default`). */
export async function raw(
  server: { url: string; token: string },
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}
