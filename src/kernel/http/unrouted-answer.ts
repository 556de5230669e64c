import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { gzipSync } from 'node:zlib';
import negotiate from '@fastify/accept-negotiator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { lingeringClose } from './linger.js';
import { kernelOutcomes } from './outcome.js';

/**
 * Sends `{"error": message}` for an answer no route gives (the 404, a URL Fastify cannot
 * decode): the compression plugin hooks into routes only, so these would go out plain to a
 * client that asked for gzip. Small enough to compress in one call.
 */
export function sendUnroutedError(request: FastifyRequest, reply: FastifyReply, status: number, message: string): FastifyReply {
  const body = JSON.stringify({ error: message });
  reply.code(status).type('application/json').header('vary', 'accept-encoding');
  const accepted = request.headers['accept-encoding'];
  if (typeof accepted === 'string' && negotiate(accepted, ['gzip']) === 'gzip') {
    return reply.header('content-encoding', 'gzip').send(gzipSync(body));
  }
  // as bytes: Fastify appends `; charset=utf-8` to a JSON type sent with a string, and a
  // framework error's answer passes no onSend hook that would take it off again
  return reply.send(Buffer.from(body));
}

/**
 * A whole HTTP/1.1 answer `{"error": error}` as bytes to write on a connection Node handles
 * outside any server response (a refused request, a CONNECT); it closes the connection.
 */
export function rawErrorAnswer(status: number, error: string): string {
  const body = JSON.stringify({ error });
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

const CONNECT_ANSWER = rawErrorAnswer(kernelOutcomes.not_found.status, kernelOutcomes.not_found.message);

/**
 * A CONNECT request (a client taking the service for a proxy): Node hands its connection over
 * raw, outside Fastify, and closed it without a word while nobody listened. It is answered as
 * any method no route serves (404 `{"error":"not found"}`), then closed, lingering as the
 * kernel's other early answers do (linger.ts): what the client sent after its request (a TLS
 * handshake begun at once) is read and dropped, so that the close does not reset the answer.
 */
export function answerConnect(socket: Duplex): void {
  // no longer the HTTP server's: without a listener a reset would be thrown as an uncaught error
  socket.on('error', () => undefined);
  socket.write(CONNECT_ANSWER);
  lingeringClose(socket);
}
