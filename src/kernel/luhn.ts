/**
 * Order numbers are digit strings of any length (SPEC); this bound only keeps them indexable
 * (a btree key holds ≈2.7 kB). Both the loyalty and the accrual service use it.
 */
export const ORDER_NUMBER_MAX_DIGITS = 1000;

/** True when `digits` is a non-empty string of ASCII decimal digits. */
export function isDigits(value: string): boolean {
  return /^[0-9]+$/.test(value);
}

/**
 * Luhn (mod 10) check of a digit string of any length. Works on the characters directly
 * so numbers longer than 2^53 keep their precision.
 */
export function isValidLuhn(digits: string): boolean {
  if (!isDigits(digits)) return false;
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Appends the Luhn check digit to `payload` (used by tests and benchmarks to mint numbers). */
export function withLuhnCheckDigit(payload: string): string {
  for (let check = 0; check <= 9; check++) {
    const candidate = payload + String(check);
    if (isValidLuhn(candidate)) return candidate;
  }
  throw new Error('unreachable: one check digit always fits');
}
