/**
 * Money and points are integer hundredths everywhere inside the platform. These helpers are
 * the only place that converts between JSON numbers / decimal strings and hundredths.
 */

/** Largest accepted amount: keeps every sum of amounts far inside Number.MAX_SAFE_INTEGER. */
export const MAX_AMOUNT_HUNDREDTHS = 1_000_000_000_000_00; // one trillion units

export type AmountParse =
  | { ok: true; hundredths: number }
  | { ok: false; reason: 'not_a_number' | 'not_positive' | 'too_many_decimals' | 'too_large' };

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

interface Rational {
  negative: boolean;
  numerator: bigint; // absolute value, scaled by 10^scale
  scale: number;
}

function parseDecimal(text: string): Rational | null {
  const m = DECIMAL.exec(text);
  if (!m) return null;
  const [, sign, whole, fraction = '', exponentText] = m;
  const exponent = exponentText === undefined ? 0 : Number(exponentText);
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 400) return null;
  let digits = (whole ?? '') + fraction;
  let scale = fraction.length - exponent;
  if (scale < 0) {
    digits += '0'.repeat(-scale);
    scale = 0;
  }
  return { negative: sign === '-', numerator: BigInt(digits), scale };
}

/** Decimal text of a finite JS number, shortest round-trip form (so 0.1 stays "0.1"). */
function numberText(value: number): string {
  return String(value);
}

/** Rounds `numerator / denominator` (both non-negative) half-up to an integer. */
export function divideRoundHalfUp(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n || numerator < 0n) throw new RangeError('divideRoundHalfUp expects non-negative operands');
  return (numerator * 2n + denominator) / (denominator * 2n);
}

function toHundredths(r: Rational, rounding: 'exact' | 'half-up'): bigint | null {
  const scaled = r.numerator * 100n;
  const divisor = 10n ** BigInt(r.scale);
  if (scaled % divisor === 0n) return scaled / divisor;
  if (rounding === 'exact') return null;
  return divideRoundHalfUp(scaled, divisor);
}

/**
 * Parses a strictly positive amount with at most two fraction digits. Accepts a JSON number,
 * or — when `allowString` — a decimal string such as "50" or "50.25".
 */
export function parsePositiveAmount(value: unknown, allowString = false): AmountParse {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { ok: false, reason: 'not_a_number' };
    text = numberText(value);
  } else if (allowString && typeof value === 'string') {
    text = value.trim();
    if (!/^[+]?\d+(\.\d+)?$/.test(text)) return { ok: false, reason: 'not_a_number' };
  } else {
    return { ok: false, reason: 'not_a_number' };
  }
  const r = parseDecimal(text);
  if (!r) return { ok: false, reason: 'not_a_number' };
  if (r.negative || r.numerator === 0n) return { ok: false, reason: 'not_positive' };
  const h = toHundredths(r, 'exact');
  if (h === null) return { ok: false, reason: 'too_many_decimals' };
  if (h > BigInt(MAX_AMOUNT_HUNDREDTHS)) return { ok: false, reason: 'too_large' };
  return { ok: true, hundredths: Number(h) };
}

/**
 * Converts a non-negative JSON number with any number of fraction digits to hundredths,
 * rounding once, half-up. Returns null for negatives, non-finite or absurdly large values.
 */
export function roundToHundredths(value: number): number | null {
  if (!Number.isFinite(value) || value < 0) return null;
  const r = parseDecimal(numberText(value));
  if (!r) return null;
  const h = toHundredths(r, 'half-up');
  if (h === null || h > BigInt(MAX_AMOUNT_HUNDREDTHS)) return null;
  return Number(h);
}

/** Hundredths → JSON number (42 for 4200, 500.5 for 50050). Exact for every safe integer input. */
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
