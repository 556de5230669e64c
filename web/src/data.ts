import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { loyalty, type Balance, type Order, type Withdrawal } from './api';
import { failure } from './problems';

export interface MemberData {
  orders: Order[] | null;
  balance: Balance | null;
  withdrawals: Withdrawal[] | null;
  /** Words for the last failed load, shown once instead of stale numbers pretending to be fresh. */
  problem: string | null;
  refresh: () => Promise<void>;
}

/** While any order is NEW or PROCESSING the lists are re-read this often, without a reload. */
export const POLL_MS = 2000;
/** After a failed load the lists are tried again this often, so the page heals by itself. */
export const RETRY_MS = 5000;

/** Calls `again` each time the page becomes visible again after being hidden. */
export function useWhenShownAgain(again: () => void | Promise<void>): void {
  useEffect(() => {
    const on = (): void => {
      if (document.visibilityState === 'visible') void again();
    };
    document.addEventListener('visibilitychange', on);
    return () => document.removeEventListener('visibilitychange', on);
  }, [again]);
}

export const isFinal = (o: Order): boolean => o.status === 'PROCESSED' || o.status === 'INVALID';

/**
 * The signed-in member's orders, balance and withdrawals, loaded together so every page and the
 * header agree. `onUnauthorized` fires when the cookie has expired.
 */
export function useMemberData(onUnauthorized: () => void): MemberData {
  const [orders, setOrders] = useState<Order[] | null>(null);
  const [balance, setBalance] = useState<Balance | null>(null);
  const [withdrawals, setWithdrawals] = useState<Withdrawal[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const unauthorized = useRef(onUnauthorized);
  unauthorized.current = onUnauthorized;

  const refresh = useCallback(async () => {
    const [o, b, w] = await Promise.all([loyalty.orders(), loyalty.balance(), loyalty.withdrawals()]);
    if ([o, b, w].some((r) => r.status === 401)) {
      unauthorized.current();
      return;
    }
    if (o.data) setOrders(o.data);
    if (b.data) setBalance(b.data);
    if (w.data) setWithdrawals(w.data);
    const failed = [o, b, w].find((r) => r.error !== undefined);
    setProblem(failed ? failure(failed, 'update your orders and balance', { retried: true }) : null);
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);
  // back to this tab after using another one (or the phone): what changed there shows at once,
  // not only at the next poll — with every order final there is none
  useWhenShownAgain(refresh);

  const pending = orders?.some((o) => !isFinal(o)) ?? false;
  const every = problem !== null ? RETRY_MS : pending ? POLL_MS : 0;
  useEffect(() => {
    if (every === 0) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void refresh();
    }, every);
    return () => clearInterval(timer);
  }, [every, refresh]);

  return { orders, balance, withdrawals, problem, refresh };
}
