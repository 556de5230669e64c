import { existsSync, readdirSync, statSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { join, posix, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { sessionCookie } from '../kernel/http/auth.js';
import { innerApp, lazyApp } from '../kernel/http/lazy-app.js';
import { fail, kernelOutcomes, outcomeResponses } from '../kernel/http/outcome.js';
import { gophermartOutcomes } from './contract.js';
import { ErrorBody, type HttpApp } from '../kernel/http/server.js';
import type { Logger } from '../kernel/logger.js';
import { appPage } from './web-pages.js';

/** Where `npm run build:web` writes the app; the same from src/gophermart (tsx) and dist/gophermart (built). */
export const DEFAULT_WEB_ROOT = resolve(import.meta.dirname, '../../dist/web');

/** Mount point of the same-origin proxy to the ledger orchestrator. */
export const LEDGER_PREFIX = '/ledger';
/**
 * Cookies the orchestrator sets are renamed with this prefix and scoped to LEDGER_PREFIX, so its
 * `token` can never overwrite (or be overwritten by) the loyalty service's own `token` at Path=/.
 */
export const LEDGER_COOKIE_PREFIX = 'ledger_';

/** Paths that never fall back to the app's index.html: an unknown API path is a JSON 404. */
const NO_FALLBACK = /^\/(api|ledger|assets|docs)(\/|$)/;
/** A missing file (`/logo.png`, `/robots.txt`) is a 404, not the app's page. */
const FILE_LIKE = /\/[^/]*\.[^/]*$/;

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export interface WebAppOptions {
  logger: Logger;
  /** Base URL of the orchestrator (already normalised, no trailing slash). */
  orchestratorUrl: string;
  root?: string;
}

/**
 * Browser → proxy: only the `ledger_*` cookies travel upstream, renamed back to what the
 * orchestrator set (`ledger_token` → `token`). The loyalty token is never sent to the ledger.
 */
export function ledgerRequestCookies(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  const kept: string[] = [];
  for (const part of cookieHeader.split(';')) {
    const pair = part.trim();
    if (pair.startsWith(LEDGER_COOKIE_PREFIX) && pair.includes('=')) kept.push(pair.slice(LEDGER_COOKIE_PREFIX.length));
  }
  return kept.length > 0 ? kept.join('; ') : undefined;
}

/**
 * Orchestrator → browser: `token=…; Path=/; …` becomes `ledger_token=…; Path=/ledger; …`.
 * Domain is dropped (the browser only ever sees this origin); every other attribute is kept.
 */
export function ledgerResponseCookie(setCookie: string, secure = false): string {
  const [pair = '', ...attributes] = setCookie.split(';').map((s) => s.trim());
  const kept = attributes.filter((a) => a !== '' && !/^(path|domain)(=|$)/i.test(a));
  // the orchestrator behind us may speak plain HTTP; what counts is how the browser reached us
  if (secure && !kept.some((a) => /^secure$/i.test(a))) kept.push('Secure');
  return [`${LEDGER_COOKIE_PREFIX}${pair}`, `Path=${LEDGER_PREFIX}`, ...kept].join('; ');
}

function setStaticHeaders(res: { setHeader(name: string, value: string): unknown }, path: string): void {
  if (path.endsWith('.html')) {
    // the page names hashed assets, so it must be revalidated to pick up a new build
    res.setHeader('cache-control', 'no-cache');
    res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
    res.setHeader('x-frame-options', 'DENY');
    res.setHeader('referrer-policy', 'same-origin');
  } else if (/[\\/]assets[\\/]/.test(path)) {
    res.setHeader('cache-control', 'public, max-age=31536000, immutable');
  } else {
    // favicon and the like keep their names across builds: cached, but not for ever
    res.setHeader('cache-control', 'public, max-age=86400');
  }
  res.setHeader('x-content-type-options', 'nosniff');
}

/**
 * The URLs @fastify/static registers for `root` with `wildcard: false`: every file not under a
 * dot-name (symbolic links followed), and for each index.html its directory with a trailing slash.
 */
export function staticRoutes(root: string): string[] {
  const urls: string[] = [];
  const walk = (dir: string, prefix: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.')) continue;
      const url = `${prefix}/${name}`;
      if (statSync(join(dir, name)).isDirectory()) walk(join(dir, name), url);
      else {
        urls.push(url);
        if (name === 'index.html') urls.push(`${posix.dirname(url).replace(/\/$/, '')}/`);
      }
    }
  };
  walk(root, '');
  return urls;
}

/**
 * The member web app: static assets at `/` with a fallback to index.html for the app's own
 * routes, and the same-origin proxy `/ledger/*` → orchestrator with its cookies kept apart.
 */
export async function registerWebApp(app: HttpApp, options: WebAppOptions): Promise<void> {
  await registerLedgerProxy(app, options);
  const root = options.root ?? DEFAULT_WEB_ROOT;
  if (!existsSync(resolve(root, 'index.html'))) {
    options.logger.warn({ root }, 'web app not built (npm run build:web): serving the API only');
    return;
  }
  // @fastify/static is imported on the first request for a file, not at start-up (lazy-app.ts);
  // its wildcard: false registers one route per built file, so the catch-all below only sees
  // misses: the same routes are registered here, from the same listing, and answered by it
  const files = lazyApp(async () => {
    const { default: fastifyStatic } = await import('@fastify/static');
    const inner = innerApp();
    await inner.register(fastifyStatic, { root, wildcard: false, cacheControl: false, setHeaders: setStaticHeaders });
    return inner;
  });
  for (const url of staticRoutes(root)) app.route({ method: ['HEAD', 'GET'], url, schema: { hide: true }, handler: (request, reply) => files(request, reply) });
  app.get(
    '/*',
    {
      schema: {
        tags: ['web'],
        summary: 'The member web app',
        description:
          'The app’s own pages (/, /signin, /orders, /balance, /withdraw, /wallets) answer index.html. Any other page-like path is a 404: index.html (the app shows “page not found”) when the request accepts text/html, as browsers do, else the JSON error. Paths under /api, /ledger, /assets and /docs, and file-like paths, that match nothing are always the JSON 404.',
        produces: ['text/html', 'application/json'],
        response: {
          200: Type.String({ description: 'index.html' }),
          304: { description: 'index.html not modified since the copy the browser holds (If-None-Match / If-Modified-Since)' },
          404: Type.Ref(ErrorBody, { description: 'not found: index.html for a page-like path, this JSON for anything else' }),
        },
      },
    },
    async (request, reply) => {
      const path = request.url.split('?')[0] ?? '/';
      if (appPage(path) !== undefined) return files(request, reply, { url: '/index.html', whole: true });
      // an unknown page: a browser gets the app's "page not found" page, anything else the API's JSON 404
      const browser = /\btext\/html\b/i.test(request.headers.accept ?? '');
      if (!browser || NO_FALLBACK.test(path) || FILE_LIKE.test(path)) fail(kernelOutcomes.not_found);
      return files(request, reply, { url: '/index.html', status: 404, whole: true });
    },
  );
}

/**
 * A silent orchestrator (frozen, or a network cut) is given up on after this long, 502: undici's
 * own limits are 300 s for the headers and again for the body, so each /ledger request hung for
 * minutes. The orchestrator answers within 2 s even while its database is away (SPEC), and
 * everything slow it does happens after its 202.
 */
export const LEDGER_TIMEOUT_MS = 10_000;
/**
 * The largest orchestrator answer passed on. It is held whole in memory before it is sent
 * (lazy-app.ts answers through inject), so without a bound one long wallet history asked for by
 * many clients at once, or a faulty upstream, grew the process without limit (a 300 MB answer:
 * 1.3 GB resident). A bigger answer is the 502.
 */
export const LEDGER_MAX_ANSWER_BYTES = 8 * 1024 * 1024;

/** Client-written headers that would tell the orchestrator where the request came from; it hears X-Forwarded-For/-Host/-Proto of this service's own view instead. */
const CLIENT_ADDRESSING_HEADERS = ['forwarded', 'x-forwarded-port', 'x-real-ip', 'proxy-authorization'] as const;

/** What the proxy's callbacks need of a reply (reply-from types it for HTTP/2 servers too). */
interface UpstreamReply {
  getHeaders(): Record<string, unknown>;
  removeHeader(name: string): unknown;
  code(status: number): { send(payload: unknown): unknown };
}

/** What @fastify/http-proxy registers under its prefix (its defaultRoutes and defaultHttpMethods). */
const PROXY_ROUTES = ['/', '/*'] as const;
const PROXY_METHODS = ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS'] as const;

const LEDGER_PROXY_SCHEMA = {
  tags: ['web'],
  summary: 'Same-origin proxy to the wallet ledger (orchestrator)',
  description:
    '`/ledger/<path>` is the orchestrator’s `/<path>`, e.g. `POST /ledger/auth/login` or `GET /ledger/api/user/wallets`; the orchestrator’s ' +
    '/openapi.json documents those operations. The orchestrator’s token cookie travels as `ledger_token` (Path=/ledger), apart from this ' +
    'service’s own `token`, which is never sent on; the token header of its answers is dropped (the browser holds the cookie).',
  response: {
    default: { description: 'the orchestrator’s answer, passed through', content: { 'application/json': { schema: {} } } },
    ...outcomeResponses(gophermartOutcomes.ledger_unavailable),
  },
};

async function registerLedgerProxy(app: HttpApp, options: WebAppOptions): Promise<void> {
  const Session = Type.Object({ connected: Type.Boolean({ description: 'a ledger token cookie is held (its validity is only known to the orchestrator)' }) });
  const cookieName = `${LEDGER_COOKIE_PREFIX}token`;

  // Served here, not proxied: the orchestrator has no sign-out, and only this service knows the
  // cookie's renamed form. The orchestrator has no /session path for these to shadow.
  app.get(
    `${LEDGER_PREFIX}/session`,
    {
      schema: {
        tags: ['web'],
        summary: 'Whether the browser holds a ledger session cookie',
        response: { 200: { ...Session, description: 'whether the ledger cookie is held' } },
      },
    },
    async (request) => ({ connected: Boolean(request.cookies[cookieName]) }),
  );
  app.delete(
    `${LEDGER_PREFIX}/session`,
    { schema: { tags: ['web'], summary: 'Forget the ledger session cookie', response: { 200: { ...Session, description: 'the ledger cookie is cleared' } } } },
    async (request, reply) => {
      reply.clearCookie(cookieName, sessionCookie(request, LEDGER_PREFIX));
      return { connected: false };
    },
  );

  // The proxy passes the orchestrator's own API through: documented here as the pass-through it
  // is, the operations themselves in the orchestrator's /openapi.json.
  // @fastify/http-proxy (with undici, ws and @fastify/reply-from) is imported on the first
  // /ledger request, not at start-up (lazy-app.ts): the routes it registers are registered here,
  // each answered by it; the body travels as the bytes the client sent
  // a callback outside the request's promise: answered here, from the same table, with none of
  // the upstream headers already copied onto the reply (its length, encoding, cookies)
  const unavailable = (reply: UpstreamReply, fields: Record<string, unknown>, message: string): void => {
    options.logger.warn({ ...fields, upstream: options.orchestratorUrl }, message);
    for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name);
    void reply.code(gophermartOutcomes.ledger_unavailable.status).send({ error: gophermartOutcomes.ledger_unavailable.message });
  };
  /** Sends the orchestrator's answer once it is all here, or the 502 once it passes LEDGER_MAX_ANSWER_BYTES or breaks off. */
  const passOnBounded = async (reply: UpstreamReply & { send(payload: Buffer): unknown }, stream: Readable): Promise<void> => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        bytes += chunk.length;
        if (bytes > LEDGER_MAX_ANSWER_BYTES) {
          stream.destroy();
          return unavailable(reply, { bytes, limit: LEDGER_MAX_ANSWER_BYTES }, 'ledger proxy: orchestrator answer too large');
        }
        chunks.push(chunk);
      }
    } catch (err) {
      return unavailable(reply, { err }, 'ledger proxy: orchestrator answer cut off');
    }
    void reply.send(Buffer.concat(chunks));
  };
  const proxy = lazyApp(async () => {
    const { default: fastifyHttpProxy } = await import('@fastify/http-proxy');
    const inner = innerApp();
    // the body the outer route read, handed on as a stream: reply-from would re-encode a parsed
    // body as JSON, and a failed upstream destroys the stream it was given (not the injected request)
    inner.removeAllContentTypeParsers();
    inner.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, Readable.from([body])));
    await inner.register(fastifyHttpProxy, {
      upstream: options.orchestratorUrl,
      proxyPayloads: false,
      prefix: LEDGER_PREFIX,
      rewritePrefix: '',
      replyOptions: {
        rewriteRequestHeaders: (request, headers) => {
          const out: IncomingHttpHeaders = { ...headers };
          delete out.cookie;
          // X-Forwarded-Host and -Proto stay: lazy-app.ts set them to the outer app's view of the
          // host and scheme the browser asked for, so an orchestrator that trusts this proxy checks
          // a request's Origin against them (cross-site.ts), not against its own address
          for (const name of CLIENT_ADDRESSING_HEADERS) delete out[name];
          // checked against this host already (cross-site.ts, before the route ran): passed on, it
          // would be compared with the orchestrator's own address, and a browser that sends no
          // Sec-Fetch-Site refused there unless the orchestrator trusts this proxy
          delete out.origin;
          const cookie = ledgerRequestCookies(request.headers.cookie);
          if (cookie) out.cookie = cookie;
          // the orchestrator counts failed logins per client: it is told who the client is (this
          // service's view of it, one address, so nothing the client wrote travels on) and
          // believes it when its TRUST_PROXY names this service
          out['x-forwarded-for'] = request.ip;
          return out;
        },
        rewriteHeaders: (headers, request) => {
          const out: IncomingHttpHeaders = { ...headers };
          const raw = out['set-cookie'];
          if (raw !== undefined) {
            const list = Array.isArray(raw) ? raw : [String(raw)];
            // the inner request's scheme is its injection's; the outer one's came as X-Forwarded-Proto (lazy-app.ts)
            const secure = request?.headers['x-forwarded-proto'] === 'https';
            out['set-cookie'] = list.map((cookie) => ledgerResponseCookie(cookie, secure));
          }
          // the cookie is the browser's credential; the app's script never needs to see the token
          delete out.authorization;
          return out;
        },
        timeout: LEDGER_TIMEOUT_MS,
        // read here rather than streamed on: the whole answer is held anyway, and counting it as it
        // arrives is what lets a too-large one be refused before it is all in memory
        onResponse: (_request, reply, res) => void passOnBounded(reply, res.stream),
        onError: (reply, { error }) => unavailable(reply, { err: error }, 'ledger proxy: orchestrator unreachable'),
      },
    });
    return inner;
  });
  await app.register(
    async (proxyScope) => {
      proxyScope.removeAllContentTypeParsers();
      proxyScope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
      // under the prefix, as the plugin registers them: '/' is then /ledger itself
      for (const url of PROXY_ROUTES)
        proxyScope.route({ method: [...PROXY_METHODS], url, schema: { ...LEDGER_PROXY_SCHEMA }, handler: (request, reply) => proxy(request, reply) });
    },
    { prefix: LEDGER_PREFIX },
  );
}
