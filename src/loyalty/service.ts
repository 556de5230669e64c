import { hashPassword, verifyPassword } from '../kernel/auth/password.js';
import { isDigits, isValidLuhn } from '../kernel/luhn.js';
import type { LoyaltyStore, OrderRow, OrderStatus, WithdrawalRow, WithdrawOutcome } from './store.js';

/** Order numbers are digit strings of any length in principle; this bound keeps keys indexable. */
export const ORDER_NUMBER_MAX = 255;

export type OrderNumberProblem = 'empty' | 'not_digits' | 'too_long' | 'fails_luhn';

export function checkOrderNumber(number: string): OrderNumberProblem | null {
  if (number === '') return 'empty';
  if (!isDigits(number)) return 'not_digits';
  if (number.length > ORDER_NUMBER_MAX) return 'too_long';
  if (!isValidLuhn(number)) return 'fails_luhn';
  return null;
}

export type UploadOutcome = 'accepted' | 'already_yours' | 'taken' | 'unknown_user';

/** Use cases of the loyalty service: no HTTP, no SQL. */
export class LoyaltyService {
  constructor(
    private readonly store: LoyaltyStore,
    /** Told about every newly accepted order (the accrual poller wakes up for it). */
    private readonly events: { orderAccepted?: () => void } = {},
  ) {}

  /** New user's id, or null when the login is taken. */
  async register(login: string, password: string): Promise<number | null> {
    if (await this.store.findUserByLogin(login)) return null;
    return this.store.createUser(login, await hashPassword(password));
  }

  /** The user's id when the pair matches, else null. */
  async authenticate(login: string, password: string): Promise<number | null> {
    const user = await this.store.findUserByLogin(login);
    const ok = await verifyPassword(user?.password_hash, password);
    return ok && user ? user.id : null;
  }

  /** The login behind a token's subject; undefined when the user no longer exists. */
  loginOf(userId: number): Promise<string | undefined> {
    return this.store.loginOf(userId);
  }

  async uploadOrder(userId: number, number: string): Promise<{ outcome: UploadOutcome; status?: OrderStatus }> {
    const result = await this.store.insertOrder(userId, number);
    if (result === 'unknown_user') return { outcome: 'unknown_user' };
    if (result.outcome === 'created') {
      this.events.orderAccepted?.();
      return { outcome: 'accepted', status: 'NEW' };
    }
    return result.ownedByCaller ? { outcome: 'already_yours', status: result.status } : { outcome: 'taken' };
  }

  listOrders(userId: number): Promise<OrderRow[]> {
    return this.store.listOrders(userId);
  }

  async balance(userId: number): Promise<{ current: number; withdrawn: number } | null> {
    const row = await this.store.balance(userId);
    return row ? { current: row.balance, withdrawn: row.withdrawn } : null;
  }

  withdraw(userId: number, orderNumber: string, amount: number): Promise<WithdrawOutcome> {
    return this.store.withdraw(userId, orderNumber, amount);
  }

  listWithdrawals(userId: number): Promise<WithdrawalRow[]> {
    return this.store.listWithdrawals(userId);
  }
}
