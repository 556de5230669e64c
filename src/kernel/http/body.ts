import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type JsonPath, type NumberLiterals, numberLiterals } from '../json-literal.js';
import { fail, kernelOutcomes } from './outcome.js';

const NUMBER_LITERALS = Symbol('numberLiterals');

declare module 'fastify' {
  interface FastifyRequest {
    [NUMBER_LITERALS]?: NumberLiterals;
  }
  interface FastifyContextConfig {
    /** The route reads its body as text (e.g. a plain order number), whatever the content type. */
    textBody?: boolean;
    /**
     * Members of the JSON body object that hold money. A number there keeps its text as written
     * (read it with `numberLiteral`): the double JSON.parse makes of it has lost digits.
     */
    moneyFields?: readonly string[];
    /**
     * Every number of the JSON body keeps its text as written (read it with `numberLiteralAt`),
     * for amounts below the top level, such as the prices in a list of goods.
     */
    numberText?: boolean;
  }
}

/** The text of the JSON number in money field `field` of the request's body, as the client wrote it. */
export function numberLiteral(request: FastifyRequest, field: string): string | undefined {
  return request[NUMBER_LITERALS]?.at([field]);
}

/**
 * The text of the JSON number at `path` of the request's body, as the client wrote it (routes
 * with `config.numberText`); undefined where the body holds no number.
 */
export function numberLiteralAt(request: FastifyRequest, path: JsonPath): string | undefined {
  return request[NUMBER_LITERALS]?.at(path);
}

/**
 * JSON.parse stays the parser of every body (its speed, its errors, its last-wins repeated
 * members); the literals are looked up afterwards, only for routes that declare they need them.
 */
function keepNumberLiterals(request: FastifyRequest, text: string, body: Record<string, unknown>, fields: readonly string[]): void {
  request[NUMBER_LITERALS] = numberLiterals(text);
  for (const field of fields) {
    const value = body[field];
    if (typeof value !== 'number') continue;
    // `1e400` is a JSON number, but the schema's validator refuses the Infinity JSON.parse makes
    // of it (a schema 400): a finite stand-in lets the route judge the literal like any amount
    if (!Number.isFinite(value)) body[field] = value > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE;
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function decodeUtf8(body: Buffer): string {
  try {
    return strictUtf8.decode(body);
  } catch {
    fail(kernelOutcomes.body_not_utf8);
  }
}

export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    fail(kernelOutcomes.body_not_json);
  }
}

/**
 * One body parser for every content type: strict UTF-8 (invalid bytes are a 400, not silently
 * replaced), then JSON — unless the route reads text. Clients that send JSON with a missing or
 * odd content type are served instead of refused; anything that does not parse is a 400.
 */
export function registerBodyParsers(app: FastifyInstance, bodyLimit: number): void {
  // declared up front (undefined) so every request keeps one shape, as Fastify advises
  app.decorateRequest(NUMBER_LITERALS, undefined);
  app.removeAllContentTypeParsers();
  const parse = (request: FastifyRequest, body: Buffer): unknown => {
    // A request no route serves is a 404 whatever it carries: the not-found handler reads no
    // body, so one that is not JSON (a form, text, unknown bytes) must not turn it into a 400
    if (body.length === 0 || request.is404) return undefined;
    const text = decodeUtf8(body);
    const config = request.routeOptions.config;
    if (config.textBody) return text;
    const value = parseJsonText(text);
    if ((config.moneyFields || config.numberText) && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      keepNumberLiterals(request, text, value as Record<string, unknown>, config.moneyFields ?? []);
    }
    return value;
  };
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (request, body, done) => {
    try {
      done(null, parse(request, body as Buffer));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}

/**
 * Route options for a body the handler reads itself (a text/plain value with JSON alternatives):
 * `schema.body` then only documents it — one `content` entry per accepted media type — and Ajv
 * does not validate it, so every refusal comes from the handler's own outcomes.
 */
export const selfReadBody = {
  config: { textBody: true },
  validatorCompiler: () => () => true,
} as const;
