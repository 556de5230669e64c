/**
 * Typed calls to the loyalty API (same origin) and to the ledger through the loyalty service's
 * proxy at /ledger. Credentials are HttpOnly cookies the browser sends by itself: this module
 * never sees or stores a token.
 */

export interface Reply<T> {
  /** HTTP status; 0 when the server could not be reached. */
  status: number;
  data?: T;
  /** The API's `{"error": "..."}` text, or a network failure in words. */
  error?: string;
  /** A 429's `Retry-After` in seconds, when it gave one. */
  retryAfter?: number;
}

// The loyalty service's own contract: types only, so no server code reaches the bundle.
import type { Balance, Order, Session, SessionState, UploadedOrder, Withdrawal } from '../../src/gophermart/contract.js';

export type { Balance, Order, OrderStatus, Session, SessionState, UploadedOrder, Withdrawal } from '../../src/gophermart/contract.js';

// The ledger orchestrator's contract, likewise types only.
import type { HistoryEntry, WalletBalance as LedgerBalance, WalletListItem } from '../../src/ledger/orchestrator/contract.js';

export type { TxStatus } from '../../src/ledger/orchestrator/contract.js';
/** One history entry: `kind` says deposit or transfer, `counterparty` is the other wallet of a transfer. */
export type WalletTx = HistoryEntry;
export type WalletBalance = LedgerBalance;
export type Wallet = WalletListItem;
export type WalletStatus = WalletListItem['status'];

async function send<T>(method: string, path: string, body?: string | object, extraHeaders: Record<string, string> = {}): Promise<Reply<T>> {
  const init: RequestInit = { method, credentials: 'same-origin', headers: { accept: 'application/json', ...extraHeaders } };
  if (typeof body === 'string') {
    init.body = body;
    init.headers = { ...init.headers, 'content-type': 'text/plain' };
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { ...init.headers, 'content-type': 'application/json' };
  }
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch {
    return { status: 0, error: 'cannot reach the server — check your connection' };
  }
  const text = await res.text().catch(() => '');
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (res.ok) return { status: res.status, data: json as T };
  const error =
    typeof json === 'object' && json !== null && typeof (json as { error?: unknown }).error === 'string'
      ? (json as { error: string }).error
      : text || res.statusText;
  const retryAfter = Number(res.headers.get('retry-after') ?? Number.NaN);
  return Number.isFinite(retryAfter) && retryAfter > 0 ? { status: res.status, error, retryAfter } : { status: res.status, error };
}

const list = <T>(r: Reply<T[]>): Reply<T[]> => (r.status === 204 ? { status: 204, data: [] } : r);

export const loyalty = {
  /** 200 either way: signed-out visitors are not an error (no 401 in the console on every load). */
  session: () => send<SessionState>('GET', '/api/user/session'),
  register: (login: string, password: string) => send<Session>('POST', '/api/user/register', { login, password }),
  login: (login: string, password: string) => send<Session>('POST', '/api/user/login', { login, password }),
  logout: () => send<unknown>('POST', '/api/user/logout'),
  upload: (number: string) => send<UploadedOrder>('POST', '/api/user/orders', number),
  orders: async () => list(await send<Order[]>('GET', '/api/user/orders')),
  balance: () => send<Balance>('GET', '/api/user/balance'),
  withdraw: (order: string, sum: number) => send<Withdrawal>('POST', '/api/user/balance/withdraw', { order, sum }),
  withdrawals: async () => list(await send<Withdrawal[]>('GET', '/api/user/withdrawals')),
};

const L = '/ledger';
export const ledger = {
  session: () => send<{ connected: boolean }>('GET', `${L}/session`),
  forget: () => send<unknown>('DELETE', `${L}/session`),
  register: (login: string, password: string) => send<unknown>('POST', `${L}/auth/register`, { login, password }),
  login: (login: string, password: string) => send<unknown>('POST', `${L}/auth/login`, { login, password }),
  wallets: async () => list(await send<Wallet[]>('GET', `${L}/api/user/wallets`)),
  /** `key`: the submission's Idempotency-Key, reused when the same submission is retried. */
  createWallet: (walletId: string, key: string) => send<unknown>('POST', `${L}/api/user/create_wallet`, { wallet_id: walletId }, { 'idempotency-key': key }),
  transfer: (fromId: string, toId: string, amount: string, key: string) =>
    send<{ tx_id: string }>('POST', `${L}/api/user/do_transaction`, { from_id: fromId, to_id: toId, amount }, { 'idempotency-key': key }),
  balance: (id: string) => send<WalletBalance>('GET', `${L}/api/user/balance/${encodeURIComponent(id)}`),
  transactions: async (id: string) => list(await send<WalletTx[]>('GET', `${L}/api/user/transactions/${encodeURIComponent(id)}`)),
};
