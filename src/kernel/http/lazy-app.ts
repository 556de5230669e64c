import type { IncomingHttpHeaders } from 'node:http';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { kernelOutcomes } from './outcome.js';

/** Headers of the inner answer that describe its own (in-memory) connection, not the content. */
const CONNECTION_HEADERS: ReadonlySet<string> = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'date']);

export interface ForwardOptions {
  /** Path and query asked of the inner app; default the request's own. */
  url?: string;
  /** Status of the outer answer when the inner one is 200 (a page served as a 404). */
  status?: number;
  /**
   * Answer the whole file whatever `Range` asks: a page served for a route that is not its own
   * file (the app's page for a deep link, or as a 404) would otherwise be a 206 of its bytes, or a
   * 416 — statuses that route neither means nor documents (an unknown page with a Range was a 206).
   */
  whole?: boolean;
}

/** Answers an outer request from the inner app. */
export type LazyApp = (request: FastifyRequest, reply: FastifyReply, options?: ForwardOptions) => Promise<FastifyReply>;

/**
 * A bare Fastify app for `lazyApp` to build: nothing logged (the outer app writes the request
 * line), and its misses and faults answered the way the outer app answers them.
 */
export function innerApp(): FastifyInstance {
  const app = Fastify({ logger: false, routerOptions: { ignoreTrailingSlash: true } });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: kernelOutcomes.not_found.message }));
  // a fault inside (an unreadable file, an unreachable upstream the plugin did not handle) is the
  // outer app's 500; a client error keeps its status and message, as the outer app answers them
  app.setErrorHandler((err: FastifyError, _request, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    return reply.code(status).send({ error: status === 500 ? kernelOutcomes.internal.message : err.message });
  });
  return app;
}

/**
 * Headers of the outer request that belong to its own connection (RFC 9110 §7.6.1) or to its
 * body's framing. The body travels already read and decoded, and the inner app may pass the
 * request on over a connection of its own (the /ledger proxy): undici refuses to send `Expect`,
 * `Keep-Alive` or `Upgrade`, so a client's harmless `Expect: 100-continue` became a 502.
 */
const OUTER_ONLY_HEADERS: ReadonlySet<string> = new Set([
  'content-length',
  'transfer-encoding',
  'content-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'expect',
  'upgrade',
  'te',
  'trailer',
]);

function forwardedHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  // and any header the client's Connection names as its connection's own
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || OUTER_ONLY_HEADERS.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/**
 * Routes whose plugins cost resident memory that most processes never use (Swagger UI, the web
 * app's static files, the /ledger proxy with undici) are registered at start-up as small outer
 * routes, and answered by an inner Fastify app that `build` makes — importing those plugins — on
 * the first request. The outer app keeps its route catalogue, request line, metrics, error
 * format and gzip; the inner app answers through `inject()`, so its answer is held in memory
 * before it is sent on: fit for pages, assets and small API bodies, not for streams.
 */
export function lazyApp(build: () => Promise<FastifyInstance>): LazyApp {
  let inner: Promise<FastifyInstance> | undefined;
  const ready = (): Promise<FastifyInstance> => {
    inner ??= build().then(
      async (app) => {
        await app.ready();
        return app;
      },
      (err: unknown) => {
        // a failed build (a module that did not load) is retried by the next request
        inner = undefined;
        throw err;
      },
    );
    return inner;
  };
  return async (request, reply, options = {}) => {
    const app = await ready();
    // the inner app trusts no proxy: it is told the outer app's view of the host and scheme the
    // client asked for (behind a trusted proxy, what that proxy said), never the client's own words
    const headers: Record<string, string | string[]> = {
      ...forwardedHeaders(request.headers),
      'x-forwarded-host': request.host,
      'x-forwarded-proto': request.protocol,
    };
    if (options.whole) {
      delete headers.range;
      delete headers['if-range'];
    }
    const answer = await app.inject({
      // a HEAD is asked as the GET it stands for: the outer app then sends the headers (with the
      // length) of that answer without its body, as for its own routes
      method: request.method === 'HEAD' ? 'GET' : (request.method as 'GET'),
      url: options.url ?? request.url,
      headers,
      payload: Buffer.isBuffer(request.body) ? request.body : undefined,
      remoteAddress: request.ip,
    });
    reply.code(options.status !== undefined && answer.statusCode === 200 ? options.status : answer.statusCode);
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !CONNECTION_HEADERS.has(name)) reply.header(name, value);
    }
    // no body (a redirect, a 304) stays no body: not an empty one for gzip to wrap
    return answer.rawPayload.length > 0 ? reply.send(answer.rawPayload) : reply.send();
  };
}
