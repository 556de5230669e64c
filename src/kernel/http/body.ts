import type { FastifyInstance, FastifyRequest } from 'fastify';
import { fail, kernelOutcomes } from './outcome.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route reads its body as text (e.g. a plain order number), whatever the content type. */
    textBody?: boolean;
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
  app.removeAllContentTypeParsers();
  const parse = (request: FastifyRequest, body: Buffer): unknown => {
    if (body.length === 0) return undefined;
    const text = decodeUtf8(body);
    if (request.routeOptions.config.textBody) return text;
    return parseJsonText(text);
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
