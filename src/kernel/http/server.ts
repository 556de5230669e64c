import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  type RawServerDefault,
} from 'fastify';
import fastifyCompress from '@fastify/compress';
import fastifyCookie from '@fastify/cookie';
import fastifySwagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Registry } from 'prom-client';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { requestLogger, type Logger } from '../logger.js';
import { createHttpMetrics } from '../metrics.js';
import { decorateUserId } from './auth.js';
import { SAFE_METHODS, crossOriginBrowserRequest } from './cross-site.js';
import { registerDocs } from './docs.js';
import { registerBodyParsers } from './body.js';
import { answerStalledConnection, refusedAsClientError } from './client-errors.js';
import { HttpError } from './errors.js';
import { DEFAULT_HTTP_LIMITS, hostFault, limitOptions, type HttpLimits } from './limits.js';
import { lingerAfterAnswer, stopReading } from './linger.js';
import { errorResponse, kernelOutcomes } from './outcome.js';
import { SECURITY_SCHEMES, routeSecurity, withUsedSecuritySchemes } from './security.js';
import { answerConnect, sendUnroutedError } from './unrouted-answer.js';

/** Requests on one connection that may wait for their answers at once (pipelining). */
const MAX_PIPELINED = 16;
/** The content type Fastify gives every body it serialises itself. */
const FASTIFY_JSON_TYPE = 'application/json; charset=utf-8';
const UNANSWERED = Symbol('unanswered requests');
const CUT_OFF = Symbol('refused its pipelined requests');

/** A connection with its requests whose answers are not written yet, in arrival order. */
type CountedSocket = Socket & { [UNANSWERED]?: FastifyReply[]; [CUT_OFF]?: true };

/** Methods whose requests Fastify parses a body for, whether or not the route declares one. */
const BODY_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export type HttpApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

export interface HttpServerOptions {
  logger: Logger;
  title: string;
  description: string;
  metrics: Registry;
  /** Throws when the service cannot serve (e.g. database unreachable): /readyz answers 503. */
  readiness: () => Promise<void>;
  bodyLimit?: number;
  /** Responses smaller than this (bytes) go uncompressed; 0 (default) honours Accept-Encoding on every body, as SPEC asks. */
  compressThreshold?: number;
  /** Slow and idle clients: header, whole-request and keep-alive timeouts (defaults 10 s, 30 s, 5 s). */
  limits?: HttpLimits;
  /** Proxies whose X-Forwarded-For is believed (TRUST_PROXY); empty: `request.ip` is the socket's peer. */
  trustProxy?: readonly string[];
}

/** A route as the server registered it. */
export interface RegisteredRoute {
  method: string;
  url: string;
  /** Left out of /openapi.json on purpose (`schema.hide`: the document itself, the UI's assets). */
  hidden: boolean;
}

const routesByApp = new WeakMap<object, RegisteredRoute[]>();

/** Every route registered on an app made by createHttpServer, for tests that compare it with /openapi.json. */
export function registeredRoutes(app: object): readonly RegisteredRoute[] {
  return routesByApp.get(app) ?? [];
}

export const ErrorBody = Type.Object({ error: Type.String() }, { $id: 'Error', description: 'Error' });

function clientMessage(err: FastifyError): string {
  if (err.validation) return `invalid request: ${err.message}`;
  return err.message;
}

/** Refusals Fastify makes before routing (a path that is not valid percent-encoding); `answered` logs and counts them. */
const answerFrameworkError =
  (answered: (method: string, path: string, status: number) => void): NonNullable<FastifyServerOptions['frameworkErrors']> =>
  (error, request, reply) => {
    // the option's reply type is generic over every route's schema; this answer is in none of them
    sendUnroutedError(
      request,
      reply as unknown as FastifyReply,
      400,
      error.code === 'FST_ERR_BAD_URL' ? kernelOutcomes.url_malformed.message : 'malformed request',
    );
    answered(request.method, request.url.split('?')[0] ?? '', 400);
  };

/** Whether a request has a body (RFC 9112 §6.3: framed by Transfer-Encoding or a Content-Length above 0). */
function carriesBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Requests refused for what their connection did, not for anything their route decides. */
const refusedForConnection = new WeakSet<IncomingMessage>();

/**
 * 400 with the connection's last answer, for a request refused before its route runs because of
 * its connection (too many pipelined requests, no Host). Logged and counted as `unmatched`, like
 * Node's own refusals of unparsable requests: no route's document lists it.
 */
function refuseConnection(request: FastifyRequest, reply: FastifyReply, message: string): void {
  // the connection's last answer: a request pipelined behind this one must not run unanswered
  const socket = request.raw.socket as CountedSocket;
  socket[CUT_OFF] = true;
  stopReading(socket);
  refusedForConnection.add(request.raw);
  reply.header('connection', 'close').code(400).send({ error: message });
}

/** How every route's 503 documents the answer a request gets while the service stops. */
const STOPPING = `\`${kernelOutcomes.shutting_down.message}\`: the service is stopping`;

/** How every state-changing route's 403 documents the refusal of a cross-origin browser request. */
const CROSS_ORIGIN = `\`${kernelOutcomes.cross_origin.message}\`: a browser sent it for a page of another origin (Sec-Fetch-Site / Origin)`;
/** The 400 any request may get for the HTTP message itself (refuseConnection, client-errors.ts). */
const MALFORMED_MESSAGE = `malformed request: the HTTP message itself (its framing, \`${kernelOutcomes.host_missing.message}\`, \`${kernelOutcomes.host_repeated.message}\`, \`${kernelOutcomes.too_many_pipelined.message}\`)`;

/**
 * Adds `text` to what a route's document says of `status` (creating the entry if the route has
 * none): the kernel's own refusals stand beside the route's. A GET and its HEAD twin share one
 * response object, so the hook meets it twice: a text already there is not added again.
 */
function documentAlso(response: Record<string, unknown>, status: number, text: string): void {
  const described = (response[status] as { description?: string } | undefined)?.description;
  if (!described?.includes(text)) response[status] = errorResponse(described ? `${described} · ${text}` : text);
}

/** Logged and counted for a request whose client left before its answer: nginx's "client closed request". */
const CLIENT_CLOSED = 499;

/**
 * The HTTP conventions every service shares: JSON errors `{"error": …}` without internals,
 * gzip both ways, strict body parsing with a size limit, one structured log line per request,
 * Prometheus metrics, OpenAPI at /openapi.json with a UI at /docs, /healthz and /readyz.
 * Services add their routes to the returned app and then listen.
 */
/** Each server's switch that makes its answers end their connections (see beginStopping). */
const stopSignals = new WeakMap<HttpApp, () => void>();

/**
 * Says the server is about to stop: from now on each answer carries `Connection: close` and ends
 * its connection, so no client sends another request on a connection the stop is about to close.
 */
export function beginStopping(app: HttpApp): void {
  stopSignals.get(app)?.();
}

export async function createHttpServer(options: HttpServerOptions): Promise<HttpApp> {
  const bodyLimit = options.bodyLimit ?? 64 * 1024;
  // Answers given before any route runs (Fastify's refusals, Node's 408/431/400) get no
  // onResponse hook: they are logged and counted through this, set once metrics and logger are.
  let answeredUnrouted = (_method: string, _path: string, _status: number): void => undefined;
  const limits = limitOptions(options.limits ?? DEFAULT_HTTP_LIMITS);
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // one line per request is written by the onResponse hook below, not by Fastify's pair
    logController: new LogController({ disableRequestLogging: true }),
    // A pino child per request (Fastify's default) costs a sizeable share of a small request;
    // request lines carry the request id explicitly instead.
    childLoggerFactory: (logger) => logger,
    bodyLimit,
    // answered by the onRequest hook below instead, in the platform's `{"error"}` shape
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    // a path parameter as long as the request line allows reaches its route, which knows what a
    // too-long one means there (no such order: 204, no such wallet: 404) better than a router 400
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 16 * 1024 },
    ...limits,
    clientErrorHandler: (err: NodeJS.ErrnoException, socket: Socket) =>
      limits.clientErrorHandler(err, socket, (status, method, path) => answeredUnrouted(method, path, status)),
    trustProxy: options.trustProxy && options.trustProxy.length > 0 ? [...options.trustProxy] : false,
    // refusals Fastify makes before any route runs (a path that is not valid percent-encoding):
    // the platform's `{"error"}` shape instead of Fastify's own body with its internal code
    frameworkErrors: answerFrameworkError((method, path, status) => answeredUnrouted(method, path, status)),
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addSchema(ErrorBody);
  // a connection on which nothing moved for the stall limit (limits.ts): a listener here replaces
  // Node's plain destroy, so that a request still arriving gets its 408
  app.server.on('timeout', (socket: Socket) => answerStalledConnection(socket, (status, method, path) => answeredUnrouted(method, path, status)));
  // An Expect other than 100-continue is answered by Node itself, 417 with an empty body, outside
  // the platform's `{"error"}` shape and the documents; RFC 9110 §10.1.1 lets a server ignore the
  // expectation instead, which is what a client sending one can still use.
  app.server.on('checkExpectation', (req, res) => app.server.emit('request', req, res));
  // no route serves CONNECT, and Node never hands it to Fastify (see answerConnect)
  app.server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    answerConnect(socket);
    answeredUnrouted('CONNECT', req.url ?? '-', 404);
  });
  decorateUserId(app);
  const routes: RegisteredRoute[] = [];
  routesByApp.set(app, routes);
  app.addHook('onRoute', (route) => {
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
      // read when asked: a plugin's own onRoute hook may hide its routes after this one ran
      routes.push({
        method,
        url: route.url,
        get hidden() {
          return (route.schema as { hide?: boolean } | undefined)?.hide === true;
        },
      });
    }
  });
  app.addHook('onRoute', (route) => {
    if (!route.schema) return;
    // Failures the kernel itself produces for any route that reads a body, documented once here
    // so every such route's OpenAPI entry lists them. A route that expects no body still has one
    // parsed when a client sends it (junk on a logout is a 400), so its method decides too (a
    // route for GET as well shares one document entry with it and is left alone).
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const readsBody = route.schema.body !== undefined || route.config?.textBody === true || methods.every((m) => BODY_METHODS.has(m));
    if (!route.schema.response) return;
    const response = route.schema.response as Record<string, unknown>;
    // any request may be too slow or carry too much header (answered by Node, see limits.ts)
    response[408] ??= errorResponse('request timeout: headers or body too slow');
    // any request that comes on an open connection after the stop began (see `closing`)
    documentAlso(response, 503, STOPPING);
    response[431] ??= errorResponse('request headers too large');
    // a path parameter may not be valid percent-encoding
    if (route.url.includes(':') || route.url.includes('*')) documentAlso(response, 400, kernelOutcomes.url_malformed.message);
    // a state-changing request a browser sends for a page of another origin (cross-site.ts)
    if (methods.some((m) => !SAFE_METHODS.has(m))) documentAlso(response, 403, CROSS_ORIGIN);
    if (readsBody) {
      documentAlso(response, 400, 'malformed request: not valid UTF-8 / JSON, or fails the schema');
      response[413] ??= errorResponse('request body too large');
      response[415] ??= errorResponse('unsupported Content-Encoding');
    }
    // any request may be refused for the message itself, before its route runs (see
    // refuseConnection and client-errors.ts), as any may be a 408 or a 431: a GET's document
    // must list it as well, and a route with refusals of its own under 400 lists it beside them
    documentAlso(response, 400, MALFORMED_MESSAGE);
  });

  // From the moment a stop begins (see beginStopping), every answer ends its connection: the
  // server closes its idle connections a moment later, and a keep-alive client that had its
  // answer without `Connection: close` sent its next request into that close — it got a reset
  // or "other side closed" with no answer, in the 250 ms the stop spends taking waiting requests.
  let stopping = false;
  stopSignals.set(app, () => {
    stopping = true;
  });
  // Any answer given before its request's body has all arrived (a guard's 401, a size limit's
  // 413, a GET that carries a body) ends the connection, lingering (see linger.ts). A request
  // without a body is not `complete` yet while the hooks its arrival runs are still on the stack
  // (an answer given there, like the accrual's 429), but nothing of it is left to arrive: its
  // connection stays open for the next request.
  app.addHook('onSend', (request, reply, payload, done) => {
    // Fastify labels every serialised body `application/json; charset=utf-8`; the contract (and
    // RFC 8259, which defines no charset for JSON) says `application/json`, and clients compare it
    if (reply.getHeader('content-type') === FASTIFY_JSON_TYPE) reply.header('content-type', 'application/json');
    if (!request.raw.complete && carriesBody(request.raw)) {
      reply.header('connection', 'close');
      lingerAfterAnswer(request.raw);
    } else if (stopping) reply.header('connection', 'close');
    done(null, payload);
  });
  app.setErrorHandler((err: FastifyError, request, reply) => {
    // an outage, not a fault: logged once per outage by the database layer, not per request
    if (isDatabaseUnavailable(err)) return reply.code(503).send({ error: kernelOutcomes.database_unavailable.message });
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    // an outcome's message is written for the client, whatever its status (e.g. a simulated fault)
    if (err instanceof HttpError) return reply.code(status).send({ error: err.message });
    if (status >= 500) {
      request.log.error({ err, reqId: request.id, method: request.method, path: request.url.split('?')[0] }, 'request failed');
      return reply.code(status).send({ error: kernelOutcomes.internal.message });
    }
    return reply.code(status).send({ error: clientMessage(err) });
  });
  app.setNotFoundHandler((request, reply) => sendUnroutedError(request, reply, 404, kernelOutcomes.not_found.message));

  const httpMetrics = createHttpMetrics(options.metrics);
  // the level is fixed for the process's life: decided once instead of building a line to drop
  const logRequests = options.logger.isLevelEnabled('info');
  const requestLines = requestLogger(options.logger);
  answeredUnrouted = (method, path, status) => {
    httpMetrics.observe(method, 'unmatched', status, 0);
    if (logRequests) requestLines.info({ method, path, route: 'unmatched', status, ms: 0 }, 'request');
  };
  const accountFor = (request: FastifyRequest, status: number, ms: number): void => {
    const route = refusedForConnection.has(request.raw) ? 'unmatched' : (request.routeOptions.url ?? 'unmatched');
    httpMetrics.observe(request.method, route, status, ms / 1000);
    // every request, health probes and metrics scrapes included: one line each at info
    if (!logRequests) return;
    const path = request.url.split('?')[0];
    requestLines.info({ reqId: request.id, method: request.method, path, route, status, ms: Math.round(ms * 100) / 100 }, 'request');
  };
  app.addHook('onResponse', async (request, reply) => {
    const unanswered = (request.raw.socket as CountedSocket | null)?.[UNANSWERED];
    const at = unanswered ? unanswered.indexOf(reply) : -1;
    // not there: accounted for already, when its connection closed before the answer was out
    if (!unanswered || at < 0) return;
    // almost always the first (answers leave in arrival order): shift allocates nothing
    if (at === 0) unanswered.shift();
    else unanswered.splice(at, 1);
    accountFor(request, reply.statusCode, reply.elapsedTime);
  });
  // A client that hangs up before its answer is written never gets one, and Fastify then never
  // runs onResponse: the request (which may have changed state) would leave no line and no
  // count. The requests still unanswered when their connection closes are accounted for as
  // CLIENT_CLOSED — one listener per connection, not one per request, on the busiest path.
  const hungUp = (socket: CountedSocket): void => {
    for (const reply of socket[UNANSWERED]?.splice(0) ?? []) {
      // a request refused while its body arrived has had its line, with the refusal's status
      if (!reply.raw.writableFinished && !refusedAsClientError(reply.request.raw)) accountFor(reply.request, CLIENT_CLOSED, reply.elapsedTime);
    }
  };

  registerBodyParsers(app, bodyLimit);
  // From the stop on, a request that still arrives on an open connection (keep-alive, pipelined)
  // is refused and its connection closed, while the requests already running finish.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', (request, reply, done) => {
    const socket = request.raw.socket as CountedSocket;
    // read after the connection's refusal (below), which is its last answer: never run, never answered
    if (socket[CUT_OFF]) return void reply.hijack();
    let unanswered = socket[UNANSWERED];
    if (!unanswered) {
      unanswered = socket[UNANSWERED] = [];
      socket.once('close', () => hungUp(socket));
    }
    unanswered.push(reply);
    if (closing) {
      reply.header('connection', 'close').code(503).send({ error: kernelOutcomes.shutting_down.message });
      return;
    }
    // A client that pipelines requests and reads no answer makes the server hold every answer
    // it has not taken (a few bytes of request, kilobytes of response each: a 2.7 GB process
    // in a probe). Past MAX_PIPELINED unanswered requests on one connection nothing more is
    // read from it, and the request over the limit is refused with the connection's last
    // answer, queued behind those of the requests before it: they may have changed state, so
    // their answers must still arrive (destroying the socket lost them).
    if (unanswered.length > MAX_PIPELINED) {
      return void refuseConnection(request, reply, kernelOutcomes.too_many_pipelined.message);
    }
    const badHost = hostFault(request.raw);
    if (badHost) return void refuseConnection(request, reply, kernelOutcomes[badHost].message);
    if (crossOriginBrowserRequest(request)) {
      reply.code(kernelOutcomes.cross_origin.status).send({ error: kernelOutcomes.cross_origin.message });
      return;
    }
    // Content-Encoding names are case-insensitive and `identity` means none (RFC 9110 §8.4);
    // the compression plugin compares them as written
    const encoding = request.headers['content-encoding'];
    // Fastify never reads the body of a GET or HEAD, so its encoding is as irrelevant as its
    // bytes: the compression plugin would refuse one it cannot decode (415), which no GET has
    if (encoding !== undefined && (request.method === 'GET' || request.method === 'HEAD')) {
      delete request.headers['content-encoding'];
    } else if (encoding !== undefined) {
      const normal = encoding.trim().toLowerCase();
      if (normal === 'identity' || normal === '') delete request.headers['content-encoding'];
      // `x-gzip` is gzip's old name, to be read as gzip (RFC 9110 §8.4.1.3)
      else request.headers['content-encoding'] = normal === 'x-gzip' ? 'gzip' : normal;
    }
    done();
  });
  await app.register(fastifyCookie);
  await app.register(fastifyCompress, {
    global: true,
    threshold: options.compressThreshold ?? 0,
    encodings: ['gzip', 'deflate'],
    requestEncodings: ['gzip', 'deflate'],
  });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: options.title, description: options.description, version: '1.0.0' },
      components: { securitySchemes: { ...SECURITY_SCHEMES } },
    },
    // the HEAD twin Fastify adds to every GET answers too, so it is an operation of its own
    exposeHeadRoutes: true,
    // a route's security is documented by the guards it really runs (see security.ts), never by
    // hand; read when the document is built, after every plugin's own onRoute hook
    transform: ({ schema, url, route }) => ({ schema: { ...schema, security: routeSecurity(route) }, url }),
    transformObject: (documents) => ('openapiObject' in documents ? withUsedSecuritySchemes(documents.openapiObject) : documents.swaggerObject),
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  registerDocs(app);

  app.get(
    '/openapi.json',
    {
      schema: {
        tags: ['operations'],
        summary: 'This OpenAPI document',
        response: { 200: Type.Object({}, { additionalProperties: true, description: 'the OpenAPI 3 document of this service' }) },
      },
    },
    async () => app.swagger(),
  );
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Process is up',
        description: 'Answers 200 as long as the process runs, database or not.',
        response: { 200: Type.Object({ status: Type.Literal('ok') }, { description: 'the process is up' }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Database reachable',
        response: {
          200: Type.Object({ status: Type.Literal('ready') }, { description: 'the database answers: the service can serve' }),
          503: errorResponse(`\`${kernelOutcomes.database_unavailable.message}\`: the service cannot serve until the database answers again`),
        },
      },
    },
    async (_request, reply) => {
      try {
        await options.readiness();
        return { status: 'ready' as const };
      } catch {
        return reply.code(503).send({ error: kernelOutcomes.database_unavailable.message });
      }
    },
  );
  const exposition = { description: 'the metrics in the Prometheus text format', content: { 'text/plain': { schema: Type.String() } } };
  app.get('/metrics', { schema: { tags: ['operations'], summary: 'Prometheus metrics', response: { 200: exposition } } }, async (_request, reply) => {
    reply.header('content-type', options.metrics.contentType);
    return options.metrics.metrics();
  });
  return app;
}
