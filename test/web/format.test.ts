import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ORDER_NUMBER_MAX_DIGITS, withLuhnCheckDigit } from '../../src/kernel/luhn.js';
import { checkOrderNumber, money, parseAmount } from '../../web/src/format.js';

test('the pages accept every order number the service accepts, and refuse one only past the service’s own length bound', () => {
  // 300 digits: accepted by POST /api/user/orders (202), once refused by the page as "longer than any order number"
  assert.deepEqual(checkOrderNumber(withLuhnCheckDigit('4'.repeat(299))), { ok: true });
  assert.deepEqual(checkOrderNumber(withLuhnCheckDigit('4'.repeat(ORDER_NUMBER_MAX_DIGITS - 1))), { ok: true });
  assert.deepEqual(checkOrderNumber(withLuhnCheckDigit('4'.repeat(ORDER_NUMBER_MAX_DIGITS))), { ok: false, problem: 'That is longer than any order number.' });
  assert.deepEqual(checkOrderNumber(' 12345678903\n'), { ok: true });
  assert.deepEqual(checkOrderNumber('12345678904'), { ok: false, problem: 'This number fails the Luhn check — probably a typo.' });
});

test('an amount as the pages show it ("1,234.56") is read back as typed or pasted; a decimal comma too; anything unclear is refused', () => {
  assert.equal(parseAmount(money(1234.56)), 1234.56);
  assert.equal(parseAmount('1,000'), 1000);
  assert.equal(parseAmount(' 12,345,678.9 '), 12345678.9);
  assert.equal(parseAmount('12,5'), 12.5);
  assert.equal(parseAmount('0,05'), 0.05);
  assert.equal(parseAmount('25'), 25);
  for (const unclear of ['1,00,000', '1,2345', '1.000,50', '1,000,5', ',5', '1,', '12,34,56', '0', '0,00', '-5', '1e3'])
    assert.equal(parseAmount(unclear), null, unclear);
});
