import { gzipSync } from 'node:zlib';
import negotiate from '@fastify/accept-negotiator';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Sends `{"error": message}` for an answer no route gives (the 404, a URL Fastify cannot
 * decode): the compression plugin hooks into routes only, so these would go out plain to a
 * client that asked for gzip. Small enough to compress in one call.
 */
export function sendUnroutedError(request: FastifyRequest, reply: FastifyReply, status: number, message: string): FastifyReply {
  const body = JSON.stringify({ error: message });
  reply.code(status).type('application/json; charset=utf-8').header('vary', 'accept-encoding');
  const accepted = request.headers['accept-encoding'];
  if (typeof accepted === 'string' && negotiate(accepted, ['gzip']) === 'gzip') {
    return reply.header('content-encoding', 'gzip').send(gzipSync(body));
  }
  return reply.send(body);
}
