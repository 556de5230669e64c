import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideOrders, phases } from '../../src/accrual/processor.js';
import { computeAccrual, pickRule, type Good, type Rule } from '../../src/accrual/rules.js';
import { decimalFromNumber, decimalToText, parseDecimal, type Decimal } from '../../src/kernel/decimal.js';
import { checkOrder, checkRule } from '../../src/accrual/service.js';

function dec(value: number): Decimal {
  const d = decimalFromNumber(value);
  if (!d) throw new Error(`not a decimal: ${value}`);
  return d;
}

let nextId = 1;
function rule(match: string, reward: number, rewardType: '%' | 'pt', id = nextId++): Rule {
  return { id, match, reward: dec(reward), rewardType };
}

function good(description: string, price: number): Good {
  return { description, price: dec(price) };
}

function total(goods: Good[], rules: Rule[]): number {
  return Number(computeAccrual(goods, rules).hundredths);
}

test('SPEC worked example 1: Pringles 10 % and Coca-Cola 12.5 pt → 27.25', () => {
  const rules = [rule('Pringles', 10, '%'), rule('Coca-Cola', 12.5, 'pt')];
  const goods = [good('Чайник Tefal', 7000), good('Чипсы Pringles бекон', 147.5), good('Напиток Coca-Cola Zero 0.5л', 55)];
  assert.equal(total(goods, rules), 2725);
  assert.equal(computeAccrual(goods, rules).matchedGoods, 2);
});

test('SPEC worked example 2: X 5 % → 729.98 (729.975 rounded half-up once)', () => {
  const rules = [rule('X', 5, '%')];
  const goods = [good('Стиральная машинка LG', 47399.99), good('Телевизор X', 14599.5)];
  assert.equal(total(goods, rules), 72998);
});

test('x.xx5 edges round half-up, exactly (no binary float drift)', () => {
  // 1.005 is 1.00499999999999989… as a double; exact decimals round it up
  assert.equal(total([good('a', 1)], [rule('a', 1.005, 'pt')]), 101);
  assert.equal(total([good('a', 100.5)], [rule('a', 1, '%')]), 101); // 1.005 → 1.01
  assert.equal(total([good('a', 0.5)], [rule('a', 1, '%')]), 1); // 0.005 → 0.01
  assert.equal(total([good('a', 0.4)], [rule('a', 1, '%')]), 0); // 0.004 → 0.00
  assert.equal(total([good('a', 1.4)], [rule('a', 0.25, '%')]), 0); // 0.0035 → 0.00
  assert.equal(total([good('a', 2.2)], [rule('a', 0.25, '%')]), 1); // 0.0055 → 0.01
  assert.equal(total([good('a', 0.1), good('a', 0.2)], [rule('a', 10, 'pt')]), 2000);
  assert.equal(total([good('a', 0.1 + 0.2)], [rule('a', 100, '%')]), 30); // 0.30000000000000004 → 0.30
});

test('the total is rounded once, not per good', () => {
  // three goods each earning 0.004: per-good rounding would give 0, the exact sum 0.012 → 0.01
  const rules = [rule('tea', 0.4, '%')];
  const goods = [good('tea 1', 1), good('tea 2', 1), good('tea 3', 1)];
  assert.equal(total(goods, rules), 1);
  // two goods each earning 0.005: rounding each would give 0.02, the exact sum 0.01
  assert.equal(total([good('x', 0.5), good('x', 0.5)], [rule('x', 1, '%')]), 1);
});

test('several rules: each good earns from its own rule; pt counts per matching good', () => {
  const rules = [rule('Bork', 10, '%'), rule('Tefal', 3, 'pt'), rule('Zero', 2.5, 'pt')];
  const goods = [good('Чайник Bork', 7000), good('Утюг Tefal', 1000), good('Чайник Tefal', 3000), good('Coca-Cola Zero', 55), good('хлеб', 40)];
  assert.equal(total(goods, rules), 700_00 + 3_00 + 3_00 + 2_50);
  assert.equal(computeAccrual(goods, rules).matchedGoods, 4);
});

test('pt with several matching goods earns the reward once per good, whatever the price', () => {
  const rules = [rule('Coca-Cola', 12.5, 'pt')];
  const goods = [good('Coca-Cola 0.5', 55), good('Coca-Cola 1.0', 95), good('Coca-Cola Zero', 0)];
  assert.equal(total(goods, rules), 3750);
});

test('no matching good → 0 and no matched goods; matching is case-sensitive', () => {
  const rules = [rule('Bork', 10, '%')];
  const result = computeAccrual([good('чайник bork', 7000), good('BORK', 100)], rules);
  assert.equal(result.hundredths, 0n);
  assert.equal(result.matchedGoods, 0);
  assert.equal(total([], rules), 0);
});

test('longest match wins; a tie goes to the earliest registered', () => {
  const short = rule('Bork', 10, '%', 1);
  const long = rule('Bork X2', 1, 'pt', 2);
  assert.equal(pickRule('Чайник Bork X2', [short, long]), long);
  assert.equal(pickRule('Чайник Bork X1', [short, long]), short);
  assert.equal(total([good('Чайник Bork X2', 7000)], [short, long]), 100); // 1 pt, not 700
  const first = rule('Bork', 5, 'pt', 10);
  const other = rule('X200', 7, 'pt', 11);
  assert.equal(pickRule('Bork X200', [other, first]), first); // same length: lower id wins, whatever the list order
  assert.equal(total([good('Bork X200', 1)], [other, first]), 500);
  assert.equal(pickRule('nothing here', [first, other]), undefined);
});

test('length is counted in characters, so Cyrillic and emoji are not favoured', () => {
  const cyr = rule('Чай', 1, 'pt', 1);
  const lat = rule('Tea', 2, 'pt', 2);
  assert.equal(pickRule('Чай Tea', [lat, cyr]), cyr); // both 3 characters: earliest
  const emoji = rule('🍵', 5, 'pt', 3);
  const ab = rule('ab', 6, 'pt', 4);
  assert.equal(pickRule('ab🍵', [emoji, ab]), ab); // 2 characters beat 1, even though 🍵 is 2 UTF-16 units
});

test('decimals come from the shortest text of the JSON number', () => {
  assert.equal(decimalToText(dec(147.5)), '147.5');
  assert.equal(decimalToText(dec(47399.99)), '47399.99');
  assert.equal(decimalToText(dec(0.1)), '0.1');
  assert.equal(decimalToText(dec(1e-7)), '0.0000001');
  assert.equal(decimalToText(dec(1.5e21)), '1500000000000000000000');
  assert.equal(decimalToText(dec(7000)), '7000');
  assert.equal(decimalToText(dec(-0)), '0');
  assert.equal(decimalFromNumber(-1), null);
  assert.equal(decimalFromNumber(Number.NaN), null);
  assert.equal(decimalFromNumber(Infinity), null);
  assert.deepEqual(parseDecimal('12.50'), { digits: 125n, scale: 1 });
  assert.equal(parseDecimal('-1'), null);
  assert.equal(parseDecimal('abc'), null);
});

test('order decisions: empty goods → PROCESSED without accrual, zero accrual → PROCESSED without accrual, INVALID_SHARE pick', () => {
  const rules = [rule('Bork', 10, '%')];
  const orders = [
    { number: '1', goods: [], forcedInvalid: false },
    { number: '2', goods: [good('хлеб', 40)], forcedInvalid: false },
    { number: '3', goods: [good('Bork', 7000)], forcedInvalid: false },
    { number: '4', goods: [good('Bork', 7000)], forcedInvalid: true },
    { number: '5', goods: null, forcedInvalid: false },
  ];
  assert.deepEqual(decideOrders(orders, rules), [
    { number: '1', status: 'PROCESSED', accrual: null },
    { number: '2', status: 'PROCESSED', accrual: null },
    { number: '3', status: 'PROCESSED', accrual: 70000 },
    { number: '4', status: 'INVALID', accrual: null },
    { number: '5', status: 'INVALID', accrual: null },
  ]);
});

test('a total too large for the platform comes out INVALID rather than overflowing', () => {
  const rules = [rule('big', 1_000_000_000_000, 'pt')];
  const goods = Array.from({ length: 200 }, () => good('big', 1));
  assert.equal(decideOrders([{ number: '9', goods, forcedInvalid: false }], rules)[0]?.status, 'INVALID');
});

test('processing delay splits into REGISTERED and PROCESSING halves', () => {
  assert.deepEqual(phases(1000), { registeredMs: 500, processingMs: 500 });
  assert.deepEqual(phases(0), { registeredMs: 0, processingMs: 0 });
  assert.deepEqual(phases(1), { registeredMs: 0, processingMs: 1 });
});

test('input checks: rules', () => {
  assert.equal(checkRule('Bork', 10, '%').ok, true);
  assert.deepEqual(checkRule('', 10, '%'), { ok: false, problem: 'empty_match' });
  assert.deepEqual(checkRule('a', -0.01, 'pt'), { ok: false, problem: 'reward_negative' });
  assert.deepEqual(checkRule('a', Number.NaN, 'pt'), { ok: false, problem: 'reward_not_a_number' });
  assert.deepEqual(checkRule('a', 1e13, 'pt'), { ok: false, problem: 'reward_too_large' });
  assert.deepEqual(checkRule('a\u0000b', 1, 'pt'), { ok: false, problem: 'match_unstorable' });
  assert.deepEqual(checkRule('a\ud800', 1, 'pt'), { ok: false, problem: 'match_unstorable' });
  assert.deepEqual(checkRule('x'.repeat(501), 1, 'pt'), { ok: false, problem: 'match_too_long' });
  assert.equal(checkRule('🍵'.repeat(500), 1, 'pt').ok, true);
});

test('input checks: orders', () => {
  assert.equal(checkOrder('12345678903', [{ description: 'a', price: 1 }]).ok, true);
  assert.equal(checkOrder('12345678903', []).ok, true);
  assert.equal(checkOrder('12345678903', [{ description: '', price: 0 }]).ok, true);
  assert.deepEqual(checkOrder('12345678904', []), { ok: false, problem: 'number_fails_luhn' });
  assert.deepEqual(checkOrder('', []), { ok: false, problem: 'number_not_digits' });
  assert.deepEqual(checkOrder('1234 5678 903', []), { ok: false, problem: 'number_not_digits' });
  assert.deepEqual(checkOrder('12345678903', [{ description: 'a', price: -1 }]), { ok: false, problem: 'price_negative' });
  assert.deepEqual(checkOrder('12345678903', [{ description: 'a\u0000', price: 1 }]), { ok: false, problem: 'description_unstorable' });
  // digit strings far beyond 2^53 keep every digit
  const long = '4'.repeat(40);
  const valid = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'].filter((d) => checkOrder(long + d, []).ok);
  assert.equal(valid.length, 1); // exactly one check digit fits a 41-digit number
});
