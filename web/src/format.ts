import { isValidLuhn, ORDER_NUMBER_MAX_DIGITS } from '../../src/kernel/luhn.js';

const points = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** Amounts arrive as JSON numbers (loyalty) or decimal strings (ledger); shown with 2 decimals. */
export function money(value: number | string | undefined, signed = false): string {
  if (value === undefined) return '—';
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) return String(value);
  const sign = n < 0 ? '−' : signed && n > 0 ? '+' : '';
  return sign + points.format(Math.abs(n));
}

/**
 * A date and time, short enough for a table cell on a phone: the year only when it is not this
 * year's. The clock is the chart axis's 24-hour one ("14:30"): with the locale's own, the chart
 * labelled a change "8:33 PM" under an axis reading "20:30".
 */
export function when(iso: string, now = new Date()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const year = d.getFullYear() === now.getFullYear() ? undefined : 'numeric';
  return d.toLocaleString(undefined, { year, month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
}

export type NumberCheck = { ok: true } | { ok: false; problem: string };

/** The same rule as the server (digits, its length bound, Luhn), told as the member types. */
export function checkOrderNumber(text: string): NumberCheck {
  const v = text.trim();
  if (v === '') return { ok: false, problem: '' };
  if (!/^[0-9]+$/.test(v)) return { ok: false, problem: 'Digits only, please.' };
  if (v.length > ORDER_NUMBER_MAX_DIGITS) return { ok: false, problem: 'That is longer than any order number.' };
  if (!isValidLuhn(v)) return { ok: false, problem: 'This number fails the Luhn check — probably a typo.' };
  return { ok: true };
}

/**
 * A positive amount with at most two decimals, as the APIs require; null when it is not one.
 * The pages show amounts grouped ("1,234.56"), so that form is read back as typed or pasted; a
 * lone comma before one or two digits is a decimal comma ("12,5"). Neither is ambiguous: a
 * decimal comma is never followed by three digits, and a group always is.
 */
export function parseAmount(text: string): number | null {
  const t = text.trim();
  const v = /^\d{1,3}(,\d{3})+(\.\d{1,2})?$/.test(t) ? t.replaceAll(',', '') : t.replace(/^(\d+),(\d{1,2})$/, '$1.$2');
  if (!/^\d+(\.\d{1,2})?$/.test(v)) return null;
  const n = Number(v);
  return n > 0 && Number.isFinite(n) ? n : null;
}

/** An amount from either API (JSON number or decimal string) in integer hundredths; null when unreadable. */
export function hundredths(value: number | string | undefined): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.round(value * 100) : null;
  const m = /^\s*([+-]?)(\d+)(?:\.(\d{1,2}))?\s*$/.exec(value ?? '');
  if (!m) return null;
  const n = Number(m[2]) * 100 + Number((m[3] ?? '').padEnd(2, '0'));
  return m[1] === '-' ? -n : n;
}
