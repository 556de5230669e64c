import { PasswordAccounts } from '../kernel/auth/accounts.js';
import { ORDER_NUMBER_MAX_DIGITS, isDigits, isValidLuhn } from '../kernel/luhn.js';
import type { UserReadModel } from './read-model.js';
import type { GophermartStore, OrderRow, OrderStatus, WithdrawalRow, WithdrawOutcome } from './store.js';

import type { OrderNumberProblem } from './contract.js';

export type { OrderNumberProblem };

export function checkOrderNumber(number: string): OrderNumberProblem | null {
  if (number === '') return 'empty';
  if (!isDigits(number)) return 'not_digits';
  if (number.length > ORDER_NUMBER_MAX_DIGITS) return 'too_long';
  if (!isValidLuhn(number)) return 'fails_luhn';
  return null;
}

export type UploadOutcome = 'accepted' | 'already_yours' | 'taken' | 'unknown_user';

/** Use cases of the loyalty service: no HTTP, no SQL. */
export class GophermartService {
  readonly accounts: PasswordAccounts;

  constructor(
    private readonly store: GophermartStore,
    /** Told about every newly accepted order (the accrual poller wakes up for it). */
    private readonly events: { orderAccepted?: () => void } = {},
    /** Balance and orders kept in memory between writes (PostgreSQL with notifications only). */
    private readonly readModel?: UserReadModel,
  ) {
    this.accounts = new PasswordAccounts(store);
  }

  /** The login of a signed-in user (the web app's session check); undefined when the user is gone. */
  loginOf(userId: number): Promise<string | undefined> {
    return this.store.loginOf(userId);
  }

  async uploadOrder(userId: number, number: string): Promise<{ outcome: UploadOutcome; status?: OrderStatus }> {
    let result: Awaited<ReturnType<GophermartStore['insertOrder']>>;
    try {
      result = await this.store.insertOrder(userId, number);
    } finally {
      // before the answer, whatever it is (a fault may hide a commit): the caller's next read here sees the order
      this.readModel?.invalidate(userId);
    }
    if (result === 'unknown_user') return { outcome: 'unknown_user' };
    if (result.outcome === 'created') {
      this.events.orderAccepted?.();
      return { outcome: 'accepted', status: 'NEW' };
    }
    return result.ownedByCaller ? { outcome: 'already_yours', status: result.status } : { outcome: 'taken' };
  }

  async listOrders(userId: number): Promise<OrderRow[]> {
    if (this.readModel?.active) {
      const orders = await this.readModel.orders(userId);
      if (orders) return orders;
    }
    return this.store.listOrders(userId);
  }

  async balance(userId: number): Promise<{ current: number; withdrawn: number } | null> {
    const row = this.readModel?.active ? await this.readModel.balance(userId) : await this.store.balance(userId);
    return row ? { current: row.balance, withdrawn: row.withdrawn } : null;
  }

  async withdraw(userId: number, orderNumber: string, amount: number): Promise<WithdrawOutcome> {
    try {
      return await this.store.withdraw(userId, orderNumber, amount);
    } finally {
      // whatever the outcome (a fault may hide a commit), the caller's next read here goes to the database
      this.readModel?.invalidate(userId);
    }
  }

  listWithdrawals(userId: number): Promise<WithdrawalRow[]> {
    return this.store.listWithdrawals(userId);
  }
}
