import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';

/**
 * 204 with no body but `Content-Type: application/json` (clients of these APIs check the header
 * on 204 too). Sent without a payload: a serialised `null` would make Fastify drop the header.
 */
export async function sendNoContent(reply: FastifyReply): Promise<undefined> {
  if (reply.request.method === 'HEAD') withoutContentLength(reply.raw);
  await reply.code(204).header('content-type', 'application/json').send();
  return undefined;
}

/**
 * Fastify's HEAD twin of a GET route sets `Content-Length` after every hook has run (0 for an
 * answer without payload), but a 204 must not carry one (RFC 9110 §8.6): the header is taken
 * out of what reaches `writeHead`, the one place left after it.
 */
function withoutContentLength(raw: ServerResponse): void {
  const writeHead = raw.writeHead;
  raw.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    for (const arg of args) if (typeof arg === 'object' && arg !== null && !Array.isArray(arg)) delete (arg as OutgoingHttpHeaders)['content-length'];
    raw.removeHeader('content-length');
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['writeHead'];
}

/** What a 204 list answer documents: no body, but `Content-Type: application/json` as clients expect. */
export const NoItems = Type.Null({ description: 'none yet (no body; Content-Type: application/json)' });

/** A list answer: the items, or an empty list as sendNoContent's 204 (documented as NoItems). */
export async function sendList<T>(reply: FastifyReply, items: T[]): Promise<T[] | undefined> {
  return items.length === 0 ? sendNoContent(reply) : items;
}
