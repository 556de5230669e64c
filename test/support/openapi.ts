import assert from 'node:assert/strict';
import { registeredRoutes } from '../../src/kernel/http/server.js';

export interface OpenApiDoc {
  paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
}

export async function openApiDoc(url: string): Promise<OpenApiDoc> {
  const res = await fetch(`${url}/openapi.json`);
  assert.equal(res.status, 200);
  return (await res.json()) as OpenApiDoc;
}

/** Fastify's `/api/x/:id` → OpenAPI's `/api/x/{id}`, and a wildcard `/*` → `/{*}` (as @fastify/swagger writes it). */
export function openApiPath(route: string): string {
  return route.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, '{*}');
}

/**
 * Every route the app registered (collected by the kernel's onRoute hook) and not hidden on
 * purpose (`schema.hide`) is an operation of its /openapi.json with at least one documented
 * response, and the document holds nothing else — the HEAD twin Fastify adds to each GET, the
 * document itself and its UI included.
 * Returns the document's operations as sorted `METHOD /path` lines, for an exact comparison.
 */
export async function documentedOperations(app: object, url: string): Promise<string[]> {
  const doc = await openApiDoc(url);
  const routes = registeredRoutes(app);
  assert.ok(routes.length > 0, 'the kernel recorded no routes for this app');
  for (const r of routes) {
    // hidden (`schema.hide`) is a deliberate choice made in code for static assets, never for the API
    if (r.hidden) assert.doesNotMatch(r.url, /^\/(api|internal|auth)\//, `${r.method} ${r.url} is an API route hidden from /openapi.json`);
    if (r.hidden) continue;
    const op = doc.paths[openApiPath(r.url)]?.[r.method.toLowerCase()];
    assert.ok(op, `${r.method} ${r.url} is registered but missing from /openapi.json`);
    assert.ok(op.responses && Object.keys(op.responses).length > 0, `${r.method} ${r.url} documents no response`);
  }
  // and the other way round: nothing documented that the server does not serve
  const served = new Set(routes.map((r) => `${r.method.toLowerCase()} ${openApiPath(r.url)}`));
  const operations: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const method of Object.keys(ops)) {
      assert.ok(served.has(`${method} ${path}`), `/openapi.json documents ${method} ${path}, which is not registered`);
      operations.push(`${method.toUpperCase()} ${path}`);
    }
  }
  return operations.sort();
}

/** documentedOperations, counted. */
export async function assertRoutesDocumented(app: object, url: string): Promise<number> {
  return (await documentedOperations(app, url)).length;
}

/**
 * Every (route, status) the service actually answered — read back from its own Prometheus
 * counters — is documented in its OpenAPI document. Run it after a test file has exercised the
 * service's success and error paths. Returns the number of (route, status) pairs checked.
 */
export async function assertObservedStatusesDocumented(url: string): Promise<number> {
  const doc = await openApiDoc(url);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  let checked = 0;
  for (const line of metrics.split('\n')) {
    const m = /^http_requests_total\{(.*)\} \d+/.exec(line);
    if (!m?.[1]) continue;
    const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    const { method, route, status } = labels as { method: string; route: string; status: string };
    if (route === 'unmatched') continue;
    const op = doc.paths[openApiPath(route)]?.[method.toLowerCase()];
    assert.ok(op, `${method} ${route} answered requests but is missing from /openapi.json`);
    assert.ok(op.responses && status in op.responses, `${method} ${route} answered ${status}, which /openapi.json does not document`);
    checked++;
  }
  return checked;
}

/**
 * A service's own operations plus what the kernel serves beside them — the document and its UI,
 * and the HEAD twin Fastify adds to every GET — sorted, as documentedOperations returns them.
 */
export function servedOperations(own: readonly string[]): string[] {
  const all = [...own, 'GET /openapi.json', 'GET /docs', 'GET /docs/{*}'];
  const heads = all.filter((o) => o.startsWith('GET ')).map((o) => `HEAD ${o.slice('GET '.length)}`);
  return [...new Set([...all, ...heads])].sort();
}
