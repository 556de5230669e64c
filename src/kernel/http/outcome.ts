import { Type, type TSchema } from '@sinclair/typebox';
import { HttpError } from './errors.js';

/**
 * A refusal a route can answer with: its HTTP status and the `{"error": message}` the client
 * reads. Services keep theirs in one table (their contract module), so the status, the message
 * and the OpenAPI entry of an outcome are written once.
 */
export interface Outcome {
  readonly status: number;
  readonly message: string;
}

/** Declares an outcome table; the literal keys stay typed so a misspelt outcome does not compile. */
export function outcomes<const T extends Record<string, Outcome>>(table: T): Readonly<T> {
  return table;
}

/**
 * Ends the request with this outcome, from a handler, a hook or any helper they call: the
 * kernel's error handler answers `{"error": message}` with its status. `message` replaces the
 * table's text where the answer names a detail (which field, which limit).
 */
export function fail(outcome: Outcome, message: string = outcome.message): never {
  throw new HttpError(outcome.status, message);
}

/** The outcomes the kernel itself answers with, whatever the service. */
export const kernelOutcomes = outcomes({
  body_not_utf8: { status: 400, message: 'request body is not valid UTF-8' },
  body_not_json: { status: 400, message: 'request body is not valid JSON' },
  url_malformed: { status: 400, message: 'malformed request: the path is not valid percent-encoding' },
  host_missing: { status: 400, message: 'Host header required' },
  host_repeated: { status: 400, message: 'more than one Host header' },
  too_many_pipelined: { status: 400, message: 'too many pipelined requests' },
  unauthorized: { status: 401, message: 'missing, invalid or expired token' },
  cross_origin: { status: 403, message: 'cross-origin request refused' },
  not_found: { status: 404, message: 'not found' },
  internal: { status: 500, message: 'internal server error' },
  database_unavailable: { status: 503, message: 'database unavailable' },
  shutting_down: { status: 503, message: 'shutting down' },
});

/** An `{"error": …}` response in a route's schema, with what it means for the OpenAPI document. */
export function errorResponse(description: string): TSchema {
  return Type.Ref('Error', { description });
}

/**
 * The documented error responses of a route, from its outcomes: one `{"error"}` entry per
 * status, described by every message it can carry. Spread into `schema.response`.
 */
export function outcomeResponses(...list: Outcome[]): Record<number, TSchema> {
  const messages = new Map<number, string[]>();
  for (const o of list) {
    const seen = messages.get(o.status) ?? [];
    if (!seen.includes(o.message)) seen.push(o.message);
    messages.set(o.status, seen);
  }
  const responses: Record<number, TSchema> = {};
  for (const [status, texts] of messages) responses[status] = errorResponse(texts.map((t) => `\`${t}\``).join(' · '));
  return responses;
}
