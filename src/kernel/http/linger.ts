import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** How long a connection answered before its request finished arriving keeps reading, at most. */
export const LINGER_MS = 2_000;

const ANSWERED_EARLY = Symbol('answered before the request arrived');

type MarkedSocket = Socket & { [ANSWERED_EARLY]?: true };

/**
 * Called as an answer starts for a request whose body has not all arrived (refused by a guard
 * or a size limit, or a GET answered without reading the body it carries). The answer then
 * closes the connection (the caller sets `Connection: close`): the rest of the body would
 * otherwise be read as the next request, or keep the connection until the request timeout,
 * which would answer the same request a second time.
 *
 * Closing a socket with unread bytes makes the kernel reset the connection, and a client still
 * sending (most do not read before they have sent everything) then loses the answer it was
 * sent: EPIPE instead of the 413. So the close lingers, as HTTP servers do: once the answer is
 * written the write side ends, and the rest of the body is read and dropped until the client
 * closes its side or LINGER_MS has passed.
 */
export function lingerAfterAnswer(request: IncomingMessage): void {
  const socket = request.socket as MarkedSocket | null;
  if (!socket || socket[ANSWERED_EARLY]) return;
  socket[ANSWERED_EARLY] = true;
  // the body is nobody's now: read on, so that its bytes never pause the socket
  request.resume();
  // Node ends a connection whose last answer says "close" with destroySoon: end, then destroy
  socket.destroySoon = function lingering(this: Socket) {
    lingeringClose(this);
  };
}

/**
 * Ends the write side of a connection whose last answer is written, then reads and drops what
 * the client still sends until it closes its side or LINGER_MS has passed: closed with unread
 * bytes, the kernel would reset the connection and the client could lose that answer.
 */
export function lingeringClose(socket: Duplex): void {
  if (socket.writable) socket.end();
  socket.resume();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('end', () => socket.destroy());
  socket.once('close', () => clearTimeout(timer));
}

/** Whether this connection's request was answered before it arrived (no other answer may follow). */
export function answeredEarly(socket: Socket): boolean {
  return (socket as MarkedSocket)[ANSWERED_EARLY] === true;
}

/**
 * Reads nothing more from this connection, for good: the requests already read keep their
 * answers, and the one that ends the connection goes out after them. Node resumes a paused
 * connection itself (once a write drains, or when it drops an answered request's unread body),
 * which would let a client that is being cut off go on feeding requests in.
 */
export function stopReading(socket: Socket): void {
  socket.pause();
  socket.resume = function stayPaused(this: Socket) {
    return this;
  };
}
