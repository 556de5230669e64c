/**
 * Money and points are integer hundredths everywhere inside the platform. These helpers are
 * the only place that converts between JSON numbers (their literal text) / decimal strings and
 * hundredths.
 */

import { decimalFromNumber, parseDecimal, type Decimal } from './decimal.js';

/** Largest accepted amount: keeps every sum of amounts far inside Number.MAX_SAFE_INTEGER. */
export const MAX_AMOUNT_HUNDREDTHS = 1_000_000_000_000_00; // one trillion units

/**
 * Largest balance a ledger wallet may hold: ten trillion units (10 000 000 000 000.00). Every
 * amount up to it has at most 15 significant digits, which a double holds exactly and prints
 * back exactly (IEEE 754 binary64 keeps any 15-digit decimal), so `hundredthsToNumber` shows
 * every such balance to the hundredth; and it stays far inside Number.MAX_SAFE_INTEGER
 * hundredths, which the database driver's int8 parser requires. Past about 2^46 units two
 * neighbouring hundredths share one double. The shard refuses a credit that would take a
 * wallet above it; its CHECK (shard migration 4) holds the same number, so changing it needs
 * a migration.
 */
export const MAX_BALANCE_HUNDREDTHS = 1_000_000_000_000_000;

export type AmountParse = { ok: true; hundredths: number } | { ok: false; reason: 'not_a_number' | 'not_positive' | 'too_many_decimals' | 'too_large' };

/** Rounds `numerator / denominator` (both non-negative) half-up to an integer. */
export function divideRoundHalfUp(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n || numerator < 0n) throw new RangeError('divideRoundHalfUp expects non-negative operands');
  return (numerator * 2n + denominator) / (denominator * 2n);
}

function toHundredths(d: Decimal, rounding: 'exact' | 'half-up'): bigint | null {
  const scaled = d.digits * 100n;
  const divisor = 10n ** BigInt(d.scale);
  if (scaled % divisor === 0n) return scaled / divisor;
  if (rounding === 'exact') return null;
  return divideRoundHalfUp(scaled, divisor);
}

/** A JSON number literal (RFC 8259 grammar), sign included. */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

function decimalFromLiteral(literal: string): Decimal | AmountParse {
  if (!JSON_NUMBER.test(literal)) return { ok: false, reason: 'not_a_number' };
  if (literal.startsWith('-')) return { ok: false, reason: 'not_positive' };
  // past the largest double (JSON.parse reads Infinity): a number, only too large, like 1e308
  if (!Number.isFinite(Number(literal))) return { ok: false, reason: 'too_large' };
  return parseDecimal(literal) ?? { ok: false, reason: 'not_a_number' };
}

/**
 * Parses a strictly positive amount with at most two fraction digits. Accepts a JSON number,
 * or — when `allowString` — a decimal string such as "50" or "50.25". For a number, pass its
 * `literal` as the body wrote it (`numberLiteral` in http/body.ts): the decision is made on that
 * text, since the double nearest to `1.100000000000000000001` is the one nearest to `1.1`.
 * Without it the number's shortest round-trip text stands in.
 */
export function parsePositiveAmount(value: unknown, allowString = false, literal?: string): AmountParse {
  let d: Decimal | null;
  if (typeof value === 'number' && literal !== undefined) {
    const parsed = decimalFromLiteral(literal);
    if ('ok' in parsed) return parsed;
    d = parsed;
  } else if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { ok: false, reason: 'not_a_number' };
    if (value <= 0) return { ok: false, reason: 'not_positive' };
    d = decimalFromNumber(value);
  } else if (allowString && typeof value === 'string') {
    if (!/^[+]?\d+(\.\d+)?$/.test(value)) return { ok: false, reason: 'not_a_number' };
    d = parseDecimal(value.replace(/^\+/, ''));
  } else {
    return { ok: false, reason: 'not_a_number' };
  }
  if (!d) return { ok: false, reason: 'not_a_number' };
  if (d.digits === 0n) return { ok: false, reason: 'not_positive' };
  const h = toHundredths(d, 'exact');
  if (h === null) return { ok: false, reason: 'too_many_decimals' };
  if (h > BigInt(MAX_AMOUNT_HUNDREDTHS)) return { ok: false, reason: 'too_large' };
  return { ok: true, hundredths: Number(h) };
}

/**
 * Converts a non-negative JSON number with any number of fraction digits to hundredths,
 * rounding once, half-up. Returns null for negatives, non-finite or absurdly large values.
 * Pass the number's `literal` as its document wrote it (`numberLiterals` in json-literal.ts):
 * the double JSON.parse makes of `0.00499999999999999999` is 0.005's, which would round up
 * to a hundredth the written value is below. Without it the number's shortest round-trip
 * text stands in.
 */
export function roundToHundredths(value: number, literal?: string): number | null {
  let d: Decimal | null;
  if (literal === undefined) d = decimalFromNumber(value);
  else {
    const parsed = decimalFromLiteral(literal);
    d = 'ok' in parsed ? null : parsed;
  }
  if (!d) return null;
  const h = toHundredths(d, 'half-up');
  if (h === null || h > BigInt(MAX_AMOUNT_HUNDREDTHS)) return null;
  return Number(h);
}

/**
 * Hundredths → JSON number (42 for 4200, 500.5 for 50050). Exact — the number prints back as
 * the same two-decimal amount — up to 15 significant digits, so for every amount up to
 * MAX_BALANCE_HUNDREDTHS; above about 2^46 units it can be a hundredth off.
 */
export function hundredthsToNumber(hundredths: number): number {
  return hundredths / 100;
}

/** Hundredths → fixed two-decimal text, e.g. 5000 → "50.00", -5 → "-0.05". */
export function formatHundredths(hundredths: number, signed = false): string {
  const negative = hundredths < 0;
  const abs = Math.abs(hundredths);
  const units = Math.trunc(abs / 100);
  const cents = String(abs % 100).padStart(2, '0');
  const sign = negative ? '-' : signed ? '+' : '';
  return `${sign}${units}.${cents}`;
}
