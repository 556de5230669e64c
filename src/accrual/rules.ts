/**
 * Reward rules and the accrual arithmetic (SPEC §2). Pure: no I/O.
 *
 * Prices and rewards arrive as JSON numbers with any number of fraction digits (12.5, 147.5,
 * 47399.99, 0.005). They are held as exact decimal rationals built from the number's text as
 * the request wrote it, so 0.1 is exactly one tenth and never the binary 0.1000000000000000055…;
 * every sum and product is BigInt arithmetic and the order total is rounded once, half-up.
 */
import type { Decimal } from '../kernel/decimal.js';
import { divideRoundHalfUp } from '../kernel/money.js';

export type RewardType = '%' | 'pt';

export interface Rule {
  /** Registration order: the smaller wins a tie between equally long matches. */
  id: number;
  match: string;
  reward: Decimal;
  rewardType: RewardType;
}

export interface Good {
  description: string;
  price: Decimal;
}

/** Compares a decimal with a whole number of units, exactly. */
export function decimalExceeds(d: Decimal, units: bigint): boolean {
  return d.digits > units * 10n ** BigInt(d.scale);
}

function add(a: Decimal, b: Decimal): Decimal {
  const scale = Math.max(a.scale, b.scale);
  return {
    digits: a.digits * 10n ** BigInt(scale - a.scale) + b.digits * 10n ** BigInt(scale - b.scale),
    scale,
  };
}

const ZERO: Decimal = { digits: 0n, scale: 0 };

/** Length in code points, so a match with astral characters is not counted twice. */
function matchLength(match: string): number {
  let n = 0;
  for (const _ of match) n++;
  return n;
}

/**
 * The one rule a good earns from: among the rules whose `match` occurs in the description
 * (case-sensitive substring), the longest match wins; ties go to the earliest registered.
 */
export function pickRule(description: string, rules: readonly Rule[]): Rule | undefined {
  let best: Rule | undefined;
  let bestLength = -1;
  for (const rule of rules) {
    if (!description.includes(rule.match)) continue;
    const length = matchLength(rule.match);
    if (length > bestLength || (length === bestLength && best !== undefined && rule.id < best.id)) {
      best = rule;
      bestLength = length;
    }
  }
  return best;
}

/** What one good earns under its rule, exactly: `price × reward / 100` for %, `reward` for pt. */
export function goodReward(good: Good, rule: Rule): Decimal {
  if (rule.rewardType === 'pt') return rule.reward;
  return { digits: good.price.digits * rule.reward.digits, scale: good.price.scale + rule.reward.scale + 2 };
}

export interface AccrualResult {
  /** The order total in hundredths, rounded once, half-up. */
  hundredths: bigint;
  /** How many goods matched a rule (0: the order earns nothing). */
  matchedGoods: number;
}

/** Sums the goods' rewards exactly and rounds the total once, half-up, to hundredths. */
export function computeAccrual(goods: readonly Good[], rules: readonly Rule[]): AccrualResult {
  let total = ZERO;
  let matchedGoods = 0;
  for (const good of goods) {
    const rule = pickRule(good.description, rules);
    if (!rule) continue;
    matchedGoods++;
    total = add(total, goodReward(good, rule));
  }
  const hundredths = divideRoundHalfUp(total.digits * 100n, 10n ** BigInt(total.scale));
  return { hundredths, matchedGoods };
}
