import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ORDER_NUMBER_MAX_DIGITS, withLuhnCheckDigit } from '../../src/kernel/luhn.js';
import { checkOrderNumber } from '../../web/src/format.js';

test('the pages accept every order number the service accepts, and refuse one only past the service’s own length bound', () => {
  // 300 digits: accepted by POST /api/user/orders (202), once refused by the page as "longer than any order number"
  assert.deepEqual(checkOrderNumber(withLuhnCheckDigit('4'.repeat(299))), { ok: true });
  assert.deepEqual(checkOrderNumber(withLuhnCheckDigit('4'.repeat(ORDER_NUMBER_MAX_DIGITS - 1))), { ok: true });
  assert.deepEqual(checkOrderNumber(withLuhnCheckDigit('4'.repeat(ORDER_NUMBER_MAX_DIGITS))), { ok: false, problem: 'That is longer than any order number.' });
  assert.deepEqual(checkOrderNumber(' 12345678903\n'), { ok: true });
  assert.deepEqual(checkOrderNumber('12345678904'), { ok: false, problem: 'This number fails the Luhn check — probably a typo.' });
});
