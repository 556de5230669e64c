import { MAX_AMOUNT_HUNDREDTHS } from '../kernel/money.js';
import { ORDER_NUMBER_MAX_DIGITS, isDigits, isValidLuhn } from '../kernel/luhn.js';
import { MATCH_MAX } from './migrations.js';
import { decimalFromNumber, parseDecimal, type Decimal } from '../kernel/decimal.js';
import { decimalExceeds, type Good, type RewardType } from './rules.js';
import type { AccrualStore, OrderView } from './store.js';

/** Largest price or reward accepted, in units (the platform's largest amount). */
export const MAX_UNITS = BigInt(MAX_AMOUNT_HUNDREDTHS / 100);

export type RuleProblem = 'empty_match' | 'match_too_long' | 'match_unstorable' | 'reward_not_a_number' | 'reward_negative' | 'reward_too_large';
export type OrderProblem =
  | 'number_not_digits'
  | 'number_too_long'
  | 'number_fails_luhn'
  | 'description_unstorable'
  | 'price_not_a_number'
  | 'price_negative'
  | 'price_too_large';

export type Checked<T, P> = { ok: true; value: T } | { ok: false; problem: P };

/** NUL and lone surrogates cannot be stored in PostgreSQL text faithfully: refuse them up front. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what is refused
const UNSTORABLE = /\u0000|\p{Surrogate}/u;

export interface RuleInput {
  match: string;
  reward: Decimal;
  rewardType: RewardType;
}

/**
 * Fraction digits kept exactly from a number's literal: far past any real price or reward, and
 * inside what the rules table's numeric column stores. A longer literal is read as its double.
 */
const EXACT_SCALE_MAX = 400;

/**
 * A price or reward as the exact decimal the client wrote (`literal`, the JSON text of the
 * number) — JSON.parse's double has lost every digit past the 17th significant one, and half-up
 * rounding of the total can turn on them. Without a literal, the double's shortest text.
 */
function checkAmount<P>(value: number, literal: string | undefined, problems: { nan: P; negative: P; large: P }): Checked<Decimal, P> {
  if (!Number.isFinite(value)) return { ok: false, problem: problems.nan };
  if (value < 0) return { ok: false, problem: problems.negative };
  let d = decimalFromNumber(value);
  if (literal !== undefined) {
    const negative = literal.startsWith('-');
    const written = parseDecimal(negative ? literal.slice(1) : literal);
    // -1e-400 is read as the double -0, yet it is a negative number
    if (written && negative && written.digits !== 0n) return { ok: false, problem: problems.negative };
    if (written && written.scale <= EXACT_SCALE_MAX) d = written;
  }
  if (!d) return { ok: false, problem: problems.nan };
  if (decimalExceeds(d, MAX_UNITS)) return { ok: false, problem: problems.large };
  return { ok: true, value: d };
}

/** `rewardLiteral`: the reward's JSON text as written, for the exact decimal. */
export function checkRule(match: string, reward: number, rewardType: RewardType, rewardLiteral?: string): Checked<RuleInput, RuleProblem> {
  if (match === '') return { ok: false, problem: 'empty_match' };
  if ([...match].length > MATCH_MAX) return { ok: false, problem: 'match_too_long' };
  if (UNSTORABLE.test(match)) return { ok: false, problem: 'match_unstorable' };
  const amount = checkAmount<RuleProblem>(reward, rewardLiteral, { nan: 'reward_not_a_number', negative: 'reward_negative', large: 'reward_too_large' });
  if (!amount.ok) return amount;
  return { ok: true, value: { match, reward: amount.value, rewardType } };
}

/** `priceLiteral(i)`: the JSON text of good i's price as written, for the exact decimal. */
export function checkOrder(
  number: string,
  goods: ReadonlyArray<{ description: string; price: number }>,
  priceLiteral: (index: number) => string | undefined = () => undefined,
): Checked<{ number: string; goods: Good[] }, OrderProblem> {
  if (!isDigits(number)) return { ok: false, problem: 'number_not_digits' };
  if (number.length > ORDER_NUMBER_MAX_DIGITS) return { ok: false, problem: 'number_too_long' };
  if (!isValidLuhn(number)) return { ok: false, problem: 'number_fails_luhn' };
  const checked: Good[] = [];
  for (const [index, good] of goods.entries()) {
    if (UNSTORABLE.test(good.description)) return { ok: false, problem: 'description_unstorable' };
    const price = checkAmount<OrderProblem>(good.price, priceLiteral(index), {
      nan: 'price_not_a_number',
      negative: 'price_negative',
      large: 'price_too_large',
    });
    if (!price.ok) return price;
    checked.push({ description: good.description, price: price.value });
  }
  return { ok: true, value: { number, goods: checked } };
}

/** Use cases of the accrual service: no HTTP, no SQL. */
export class AccrualService {
  constructor(
    private readonly store: AccrualStore,
    private readonly options: {
      firstStepMs: number;
      /** Share of orders picked at registration to come out INVALID (fault knob). */
      invalidShare: number;
      onRegistered: () => void;
      random?: () => number;
    },
  ) {}

  /** 'exists' when a rule with this match is registered, whatever its reward. */
  async registerRule(rule: RuleInput): Promise<'created' | 'exists'> {
    return (await this.store.insertRule(rule.match, rule.reward, rule.rewardType)) ? 'created' : 'exists';
  }

  /** 'exists' when the number is registered, whatever its goods. Readable as soon as this returns. */
  async registerOrder(number: string, goods: readonly Good[]): Promise<'accepted' | 'exists'> {
    const random = this.options.random ?? Math.random;
    const forcedInvalid = this.options.invalidShare > 0 && random() < this.options.invalidShare;
    if (!(await this.store.insertOrder(number, goods, this.options.firstStepMs, forcedInvalid))) return 'exists';
    this.options.onRegistered();
    return 'accepted';
  }

  /** Unknown for anything that is not a registered number, including non-digit text. */
  async order(number: string): Promise<OrderView | undefined> {
    if (!isDigits(number) || number.length > ORDER_NUMBER_MAX_DIGITS) return undefined;
    return this.store.findOrder(number);
  }
}
