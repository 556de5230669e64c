import type { FastifyReply } from 'fastify';

/**
 * A list answer: the items, or 204 with no body but `Content-Type: application/json` (clients
 * of these APIs check the header on 204 too).
 */
export async function sendList<T>(reply: FastifyReply, items: T[]): Promise<T[] | undefined> {
  if (items.length === 0) {
    await reply.code(204).header('content-type', 'application/json').send();
    return undefined;
  }
  return items;
}
