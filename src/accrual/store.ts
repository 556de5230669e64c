import type { Database, Queryable } from '../kernel/db/database.js';
import { decimalToText, parseDecimal } from '../kernel/decimal.js';
import type { Good, Rule, RewardType } from './rules.js';

export type AccrualStatus = 'REGISTERED' | 'PROCESSING' | 'INVALID' | 'PROCESSED';

export interface OrderView {
  status: AccrualStatus;
  /** Hundredths; null until PROCESSED. */
  accrual: number | null;
}

export interface DueOrder {
  number: string;
  /** Null when the stored goods cannot be read (a fault: the order ends INVALID, not stuck). */
  goods: Good[] | null;
  /** Picked for INVALID by the fault knob when it was registered. */
  forcedInvalid: boolean;
}

export interface OrderResult {
  number: string;
  status: 'PROCESSED' | 'INVALID';
  accrual: number | null;
}

interface RuleRow {
  id: number;
  match: string;
  reward: string;
  reward_type: RewardType;
}

function toRule(row: RuleRow): Rule {
  const reward = parseDecimal(row.reward);
  if (!reward) throw new Error(`rule ${row.id} has an unreadable reward ${row.reward}`);
  return { id: Number(row.id), match: row.match, reward, rewardType: row.reward_type };
}

/** Goods are stored as JSON with prices as exact decimal text; anything else is null. */
function parseGoods(text: string): Good[] | null {
  const raw: unknown = JSON.parse(text);
  if (!Array.isArray(raw)) return null;
  const goods: Good[] = [];
  for (const item of raw as unknown[]) {
    const g = (item ?? {}) as { description?: unknown; price?: unknown };
    const price = typeof g.price === 'string' ? parseDecimal(g.price) : null;
    if (typeof g.description !== 'string' || !price) return null;
    goods.push({ description: g.description, price });
  }
  return goods;
}

/**
 * The only module that knows the accrual schema's tables. Due times are the database's clock
 * (`now()`), the one clock every instance on the database shares; the methods that read or set
 * them take an optional `at` instead, so a test can run the processor on a clock it controls.
 */
export class AccrualStore {
  constructor(private readonly db: Database) {}

  /** False when a rule with this match exists (also when two registrations race). */
  async insertRule(match: string, reward: Rule['reward'], rewardType: RewardType): Promise<boolean> {
    const rows = await this.db.query(
      'insert into accrual.rules (match, reward, reward_type) values ($1, $2::numeric, $3) on conflict (match) do nothing returning 1',
      [match, decimalToText(reward), rewardType],
    );
    return rows.length > 0;
  }

  /**
   * Registers an order, due for its first step after `firstStepMs`. False when the number is
   * already registered, whatever its goods.
   */
  async insertOrder(number: string, goods: readonly Good[], firstStepMs: number, forcedInvalid: boolean, at?: Date): Promise<boolean> {
    const stored = JSON.stringify(goods.map((g) => ({ description: g.description, price: decimalToText(g.price) })));
    const rows = await this.db.query(
      `insert into accrual.orders (number, goods, due_at, forced_invalid)
       values ($1, $2::text::jsonb, coalesce($5::timestamptz, now()) + $3::integer * interval '1 millisecond', $4)
       on conflict (number) do nothing returning 1`,
      [number, stored, firstStepMs, forcedInvalid, at ?? null],
    );
    return rows.length > 0;
  }

  async findOrder(number: string): Promise<OrderView | undefined> {
    const rows = await this.db.query<{ status: AccrualStatus; accrual: number | null }>('select status, accrual from accrual.orders where number = $1', [
      number,
    ]);
    const row = rows[0];
    return row ? { status: row.status, accrual: row.accrual === null ? null : Number(row.accrual) } : undefined;
  }

  /**
   * REGISTERED orders that are due move to PROCESSING, due again after `stepMs`. Rows another
   * instance is moving right now are skipped, not waited for. Returns how many moved.
   */
  async startDue(limit: number, stepMs: number, at?: Date): Promise<number> {
    const rows = await this.db.query(
      `update accrual.orders set status = 'PROCESSING', due_at = coalesce($3::timestamptz, now()) + $2::integer * interval '1 millisecond'
       where number in (
         select number from accrual.orders where status = 'REGISTERED' and due_at <= coalesce($3::timestamptz, now())
         order by due_at limit $1 for update skip locked
       )
       returning 1`,
      [limit, stepMs, at ?? null],
    );
    return rows.length;
  }

  /**
   * Finishes due PROCESSING orders in one transaction: the rows stay locked (other instances
   * skip them) while `decide` computes their results against the current rules, and a crash
   * before commit leaves them PROCESSING and due, so they are finished after a restart.
   */
  async finishDue(limit: number, decide: (orders: DueOrder[], rules: Rule[]) => OrderResult[], at?: Date): Promise<OrderResult[]> {
    return this.db.transaction(async (tx) => {
      const due = await tx.query<{ number: string; goods: string; forced_invalid: boolean }>(
        `select number, goods::text as goods, forced_invalid from accrual.orders
         where status = 'PROCESSING' and due_at <= coalesce($2::timestamptz, now())
         order by due_at limit $1 for update skip locked`,
        [limit, at ?? null],
      );
      if (due.length === 0) return [];
      const rules = await this.rules(tx);
      const results = decide(
        due.map((row) => ({ number: row.number, goods: parseGoods(row.goods), forcedInvalid: row.forced_invalid })),
        rules,
      );
      for (const r of results) {
        await tx.query(
          `update accrual.orders set status = $2, accrual = $3, finished_at = now()
           where number = $1 and status = 'PROCESSING'`,
          [r.number, r.status, r.accrual],
        );
      }
      return results;
    });
  }

  /** Milliseconds until the next unfinished order is due (0 when one is overdue), or null. */
  async msUntilNextDue(at?: Date): Promise<number | null> {
    const rows = await this.db.query<{ ms: number | string | null }>(
      // greatest() would turn "no orders" (null) into 0, so the null is kept explicitly
      `select case when min(due_at) is null then null
                   else greatest(0, ceil(extract(epoch from (min(due_at) - coalesce($1::timestamptz, now()))) * 1000))::integer end as ms
       from accrual.orders where status in ('REGISTERED', 'PROCESSING')`,
      [at ?? null],
    );
    const ms = rows[0]?.ms;
    return ms === null || ms === undefined ? null : Number(ms);
  }

  private async rules(q: Queryable): Promise<Rule[]> {
    const rows = await q.query<RuleRow & Record<string, unknown>>('select id, match, reward::text as reward, reward_type from accrual.rules order by id');
    return rows.map(toRule);
  }
}
