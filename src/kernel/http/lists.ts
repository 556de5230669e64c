import type { FastifyReply } from 'fastify';

/**
 * 204 with no body but `Content-Type: application/json` (clients of these APIs check the header
 * on 204 too). Sent without a payload: a serialised `null` would make Fastify drop the header.
 */
export async function sendNoContent(reply: FastifyReply): Promise<undefined> {
  await reply.code(204).header('content-type', 'application/json').send();
  return undefined;
}

/** A list answer: the items, or an empty list as sendNoContent's 204. */
export async function sendList<T>(reply: FastifyReply, items: T[]): Promise<T[] | undefined> {
  return items.length === 0 ? sendNoContent(reply) : items;
}
