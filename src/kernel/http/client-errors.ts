import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

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
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  // The request was answered already (a guard refused it before reading its body, which then
  // never finished): a second response would break the connection's framing, as Node's own
  // handler knows. The connection just ends.
  if ((socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  const { status, error } = answerFor(err.code);
  const body = JSON.stringify({ error });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
