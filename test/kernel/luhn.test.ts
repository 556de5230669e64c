import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDigits, isValidLuhn, withLuhnCheckDigit } from '../../src/kernel/luhn.js';

test('accepts known-valid numbers, including ones longer than 2^53', () => {
  for (const n of ['0', '18', '79927398713', '12345678903', '2377225624', '4561261212345467', '9278923470', '346436439']) {
    assert.equal(isValidLuhn(n), true, n);
  }
  // 50 digits: far beyond 2^53, computed digit by digit
  assert.equal(isValidLuhn('12345678901234567890123456789012345678901234567895'), true);
  assert.equal(isValidLuhn('12345678901234567890123456789012345678901234567898'), false);
});

test('rejects wrong check digits, non-digits and empty input', () => {
  for (const n of ['79927398710', '12345678900', '', ' 18', '1a8', '-18', '１８', '18\n']) assert.equal(isValidLuhn(n), false, JSON.stringify(n));
});

test('withLuhnCheckDigit mints valid numbers of any length', () => {
  for (const payload of ['1', '1234567890', '9'.repeat(60)]) {
    const n = withLuhnCheckDigit(payload);
    assert.equal(n.length, payload.length + 1);
    assert.equal(isValidLuhn(n), true);
    const wrong = n.slice(0, -1) + String((Number(n.at(-1)) + 1) % 10);
    assert.equal(isValidLuhn(wrong), false);
  }
});

test('isDigits is ASCII-only', () => {
  assert.equal(isDigits('0123'), true);
  assert.equal(isDigits('٣'), false);
  assert.equal(isDigits(''), false);
});
