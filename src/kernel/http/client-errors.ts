import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { answeredEarly, stopReading } from './linger.js';
import { rawErrorAnswer } from './unrouted-answer.js';

/**
 * How long the answers already due on a connection may take to go out before the refusal of a
 * request after them follows them (a client that reads none of them is not waited for longer).
 */
const PENDING_ANSWERS_MS = 5_000;

/**
 * Called once a refusal has been written, for the log line and the count: its status, and the
 * method and path of the request refused (`-` where its headers never arrived).
 */
export type ClientErrorAnswered = (status: number, method: string, path: string) => void;

const HANDLED = Symbol('client error handled');

/** Requests whose headers had arrived and whose refusal here is their answer, line and count. */
const refusedRequests = new WeakSet<IncomingMessage>();

/** Whether `request` was answered by a client-error refusal (its response never finishes). */
export function refusedAsClientError(request: IncomingMessage): boolean {
  return refusedRequests.has(request);
}

/**
 * What Node keeps on a server connection and its types leave out: the answer it writes now,
 * and its parser, whose `incoming` is the request whose headers it read last.
 */
type ServerSocket = Socket & {
  _httpMessage?: ServerResponse | null;
  parser?: { incoming?: IncomingMessage | null } | null;
  [HANDLED]?: true;
};

/** Method and path of the request a client error is about, when its headers had arrived (its body had not). */
function failingRequest(socket: ServerSocket): { method: string; path: string; request?: IncomingMessage } {
  const incoming = socket.parser?.incoming;
  // a complete one is an earlier request: the failing one never got as far as its headers
  if (!incoming || incoming.complete) return { method: '-', path: '-' };
  return { method: incoming.method ?? '-', path: incoming.url?.split('?')[0] ?? '-', request: incoming };
}

/** A refusal to write, and the request it refuses. */
interface Refusal {
  status: number;
  error: string;
  method: string;
  path: string;
  request?: IncomingMessage;
}

/** What to tell a client whose request Node refused before any route saw it. */
function answerFor(code: string | undefined): { status: number; error: string } {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, error: 'request timeout' };
  if (code === 'HPE_HEADER_OVERFLOW') return { status: 431, error: 'request headers too large' };
  return { status: 400, error: 'bad request' };
}

/**
 * The answer that must go out before the refusal, if any: one for an earlier request (complete,
 * pipelined before the one that failed), or the failing request's own answer, already started
 * before its body had arrived. A failing request's answer not started yet is the refusal's to give.
 */
function answerFirst(socket: ServerSocket): ServerResponse | undefined {
  const current = socket._httpMessage;
  if (!current || current.writableFinished) return undefined;
  return current.req.complete || current.headersSent ? current : undefined;
}

/** Calls `next` once `response` went out or its connection closed, or at `deadline` at the latest. */
function afterAnswer(response: ServerResponse, deadline: number, next: () => void): void {
  const done = (): void => {
    clearTimeout(timer);
    response.off('finish', done);
    response.off('close', done);
    next();
  };
  const timer = setTimeout(done, Math.max(0, deadline - Date.now()));
  response.once('finish', done);
  response.once('close', done);
}

/**
 * Writes the refusal once every answer due before it has gone out (Node answers pipelined
 * requests in order, each once the one before it finished), then closes the connection. No
 * refusal follows an answer the failing request already got, nor a connection that is already
 * ending; past the deadline the connection is closed as it is.
 */
function refuseInTurn(socket: ServerSocket, refusal: Refusal | undefined, deadline: number, answered: ClientErrorAnswered): void {
  if (socket.destroyed) return;
  const first = answerFirst(socket);
  if (first && Date.now() < deadline) {
    const own = !first.req.complete;
    afterAnswer(first, deadline, () => refuseInTurn(socket, own ? undefined : refusal, deadline, answered));
    return;
  }
  // answeredEarly: the failing request was answered before its body had arrived (linger.ts); a
  // second answer (a 408 as the rest of the body trickles in) would be read as the next one's
  if (!first && refusal && socket.writable && !answeredEarly(socket)) {
    socket.write(rawErrorAnswer(refusal.status, refusal.error));
    if (refusal.request) refusedRequests.add(refusal.request);
    answered(refusal.status, refusal.method, refusal.path);
  }
  socket.destroy();
}

/**
 * Node's `clientError`: a request that timed out (headers or whole request too slow) or could
 * not be parsed. Answered in the platform's `{"error": …}` shape where the socket still takes
 * it, then the connection is closed — a client that was too slow gets no second chance on it.
 * A refusal is the connection's last answer, after those of the requests pipelined before the
 * one that failed: written at once, it would be read as the first of them. `answered` hears of
 * each refusal written.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket, answered: ClientErrorAnswered = () => undefined): void {
  const s = socket as ServerSocket;
  // Node reports a connection again while it waits for its earlier answers (each read the parser fails on)
  if (err.code === 'ECONNRESET' || socket.destroyed || s[HANDLED]) return;
  s[HANDLED] = true;
  // read now: the parser lets go of its request once the connection closes
  const refusal = { ...answerFor(err.code), ...failingRequest(s) };
  // nothing more is read while earlier answers go out: a request completing now would be answered after the refusal
  stopReading(socket);
  refuseInTurn(s, refusal, Date.now() + PENDING_ANSWERS_MS, answered);
}

/**
 * Node's `timeout` on a server connection: nothing moved on it, either way, for the stall limit
 * (limits.ts). A request still arriving is refused as a request that took too long (408, as the
 * whole-request limit would); an answer the client has stopped reading is given up, with its
 * connection — nothing more can reach a client that reads nothing — and its request is logged as
 * one whose client left (499). An idle keep-alive connection (Node re-arms the same timer with
 * the keep-alive limit between requests) is closed, as Node itself would.
 */
export function answerStalledConnection(socket: Socket, answered: ClientErrorAnswered = () => undefined): void {
  const incoming = (socket as ServerSocket).parser?.incoming;
  if (incoming && !incoming.complete) {
    const stalled: NodeJS.ErrnoException = new Error('request stalled');
    stalled.code = 'ERR_HTTP_REQUEST_TIMEOUT';
    answerClientError(stalled, socket, answered);
    return;
  }
  socket.destroy();
}
