/**
 * Exact non-negative decimals for amounts that arrive as JSON numbers or decimal text. A JSON
 * number is read from its shortest round-trip text (what JSON.stringify prints), so 0.1 is one
 * tenth, never the binary 0.1000000000000000055…
 */

/** A non-negative exact decimal: `digits / 10^scale`. */
export interface Decimal {
  digits: bigint;
  scale: number;
}

const DECIMAL_TEXT = /^(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** Parses plain or exponent decimal text ("147.5", "1e-7", "1.5e+21"); null when not one. */
export function parseDecimal(text: string): Decimal | null {
  const m = DECIMAL_TEXT.exec(text);
  if (!m) return null;
  // zeros that change nothing are cut as text: dividing a long BigInt by ten once per zero
  // (normalise) grew with the square of the length, a second of CPU for one 64 KiB amount
  const whole = withoutLeadingZeros(m[1] ?? '0');
  const fraction = withoutTrailingZeros(m[2] ?? '');
  const exponent = m[3] === undefined ? 0 : Number(m[3]);
  // JSON doubles need at most ~330 digits of scale; anything beyond is not a real amount
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 400) return null;
  let digitText = whole + fraction;
  let scale = fraction.length - exponent;
  if (scale < 0) {
    digitText += '0'.repeat(-scale);
    scale = 0;
  }
  return normalise({ digits: BigInt(digitText), scale });
}

function withoutLeadingZeros(digits: string): string {
  let start = 0;
  while (start < digits.length - 1 && digits.charCodeAt(start) === 0x30) start++;
  return digits.slice(start);
}

function withoutTrailingZeros(digits: string): string {
  let end = digits.length;
  while (end > 0 && digits.charCodeAt(end - 1) === 0x30) end--;
  return digits.slice(0, end);
}

/**
 * The exact decimal a non-negative finite JSON number stands for, read from its shortest
 * round-trip text (what JSON.stringify would print). Null for negatives, NaN, ±Infinity.
 */
export function decimalFromNumber(value: number): Decimal | null {
  if (!Number.isFinite(value) || value < 0) return null;
  return parseDecimal(String(value));
}

/** Drops trailing fraction zeros so equal values have one representation. */
function normalise(d: Decimal): Decimal {
  let { digits, scale } = d;
  while (scale > 0 && digits % 10n === 0n) {
    digits /= 10n;
    scale -= 1;
  }
  return { digits, scale };
}

/** Plain decimal text without exponent ("147.5", "0.0000001"): storable in a numeric column. */
export function decimalToText(d: Decimal): string {
  const text = d.digits.toString();
  if (d.scale === 0) return text;
  const padded = text.padStart(d.scale + 1, '0');
  return `${padded.slice(0, padded.length - d.scale)}.${padded.slice(padded.length - d.scale)}`;
}

/** The JSON number for a decimal (for echoing input back; never used in arithmetic). */
export function decimalToNumber(d: Decimal): number {
  return Number(decimalToText(d));
}
