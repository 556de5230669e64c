import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { answeredEarly } from './linger.js';

/** What to tell a client whose request Node refused before any route saw it. */
function answerFor(code: string | undefined): { status: number; error: string } {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, error: 'request timeout' };
  if (code === 'HPE_HEADER_OVERFLOW') return { status: 431, error: 'request headers too large' };
  return { status: 400, error: 'bad request' };
}

/**
 * Node's `clientError`: a request that timed out (headers or whole request too slow) or could
 * not be parsed. Answered in the platform's `{"error": …}` shape where the socket still takes
 * it, then the connection is closed — a client that was too slow gets no second chance on it.
 * Returns the status answered (none when the connection was already gone or mid-answer).
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): number | undefined {
  if (err.code === 'ECONNRESET' || socket.destroyed) return undefined;
  // this connection's request was answered already, before its body had arrived (linger.ts): a
  // second answer (a 408 as the rest of the body trickles in) would be read as the next one's
  if (answeredEarly(socket)) {
    socket.destroy();
    return undefined;
  }
  // An answer to this request is already being written (the client is still sending a body the
  // server answered without reading): a second response would break the connection's framing,
  // so, as in Node's own handler, the connection just ends. (A refusal that finished before its
  // body arrived closes the connection itself: see the error handler in server.ts.)
  if ((socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) {
    socket.destroy();
    return undefined;
  }
  const { status, error } = answerFor(err.code);
  const body = JSON.stringify({ error });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
  return status;
}
