import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MAX_BALANCE_HUNDREDTHS,
  divideRoundHalfUp,
  formatHundredths,
  hundredthsToNumber,
  parsePositiveAmount,
  roundToHundredths,
} from '../../src/kernel/money.js';

test('parsePositiveAmount accepts at most two decimals, exactly', () => {
  assert.deepEqual(parsePositiveAmount(751), { ok: true, hundredths: 75100 });
  assert.deepEqual(parsePositiveAmount(500.5), { ok: true, hundredths: 50050 });
  assert.deepEqual(parsePositiveAmount(0.01), { ok: true, hundredths: 1 });
  assert.deepEqual(parsePositiveAmount(729.98), { ok: true, hundredths: 72998 });
  assert.deepEqual(parsePositiveAmount(0.1 + 0.2), { ok: false, reason: 'too_many_decimals' });
  assert.deepEqual(parsePositiveAmount(100.005), { ok: false, reason: 'too_many_decimals' });
  assert.deepEqual(parsePositiveAmount(1e-7), { ok: false, reason: 'too_many_decimals' });
});

test('parsePositiveAmount refuses non-positive, non-numbers and absurd sizes', () => {
  assert.deepEqual(parsePositiveAmount(0), { ok: false, reason: 'not_positive' });
  assert.deepEqual(parsePositiveAmount(-5), { ok: false, reason: 'not_positive' });
  assert.deepEqual(parsePositiveAmount('5'), { ok: false, reason: 'not_a_number' });
  assert.deepEqual(parsePositiveAmount(Number.NaN), { ok: false, reason: 'not_a_number' });
  assert.deepEqual(parsePositiveAmount(Infinity), { ok: false, reason: 'not_a_number' });
  assert.deepEqual(parsePositiveAmount(null), { ok: false, reason: 'not_a_number' });
  assert.deepEqual(parsePositiveAmount(1e21), { ok: false, reason: 'too_large' });
});

test('parsePositiveAmount with strings when allowed', () => {
  assert.deepEqual(parsePositiveAmount('50', true), { ok: true, hundredths: 5000 });
  assert.deepEqual(parsePositiveAmount('50.25', true), { ok: true, hundredths: 5025 });
  assert.deepEqual(parsePositiveAmount('+50.25', true), { ok: true, hundredths: 5025 });
  // a decimal as written: white space around it is not part of one
  assert.deepEqual(parsePositiveAmount(' 50.25 ', true), { ok: false, reason: 'not_a_number' });
  assert.deepEqual(parsePositiveAmount('50.255', true), { ok: false, reason: 'too_many_decimals' });
  assert.deepEqual(parsePositiveAmount('1e3', true), { ok: false, reason: 'not_a_number' });
  assert.deepEqual(parsePositiveAmount('-1', true), { ok: false, reason: 'not_a_number' });
  assert.deepEqual(parsePositiveAmount('0.00', true), { ok: false, reason: 'not_positive' });
});

test('parsePositiveAmount judges a JSON number on its literal when given', () => {
  // each of these is the double of a two-decimal amount; the text says otherwise
  assert.deepEqual(parsePositiveAmount(1.1, false, '1.100000000000000000001'), { ok: false, reason: 'too_many_decimals' });
  assert.deepEqual(parsePositiveAmount(2, false, '2.0000000000000001'), { ok: false, reason: 'too_many_decimals' });
  assert.deepEqual(parsePositiveAmount(0.3, true, '0.29999999999999999'), { ok: false, reason: 'too_many_decimals' });
  assert.deepEqual(parsePositiveAmount(123456789012345.67, false, '123456789012345.678'), { ok: false, reason: 'too_many_decimals' });
  assert.deepEqual(parsePositiveAmount(Number.MAX_VALUE, false, '1e400'), { ok: false, reason: 'too_large' });
  assert.deepEqual(parsePositiveAmount(1e308, false, '1e308'), { ok: false, reason: 'too_large' });
  assert.deepEqual(parsePositiveAmount(0, false, '1e-400'), { ok: false, reason: 'too_many_decimals' });
  assert.deepEqual(parsePositiveAmount(-0, false, '-0'), { ok: false, reason: 'not_positive' });
  assert.deepEqual(parsePositiveAmount(-5, false, '-5'), { ok: false, reason: 'not_positive' });
  assert.deepEqual(parsePositiveAmount(0, false, '0.00'), { ok: false, reason: 'not_positive' });
  assert.deepEqual(parsePositiveAmount(5, false, '+5'), { ok: false, reason: 'not_a_number' });
  for (const [literal, hundredths] of [
    ['1.10', 110],
    ['1.1', 110],
    ['1e2', 10000],
    ['1.5e1', 1500],
    ['100', 10000],
    ['1.2500e0', 125],
    ['125E-2', 125],
    ['0.010', 1],
  ] as const) {
    assert.deepEqual(parsePositiveAmount(Number(literal), false, literal), { ok: true, hundredths }, literal);
  }
  // a string is read as itself, whatever literal is passed
  assert.deepEqual(parsePositiveAmount('1.5', true, '1.005'), { ok: true, hundredths: 150 });
});

test('roundToHundredths rounds half-up once', () => {
  assert.equal(roundToHundredths(27.25), 2725);
  assert.equal(roundToHundredths(0.005), 1);
  assert.equal(roundToHundredths(0.004), 0);
  assert.equal(roundToHundredths(1.005), 101); // decimal text "1.005", not the binary 1.00499…
  assert.equal(roundToHundredths(0), 0);
  assert.equal(roundToHundredths(-1), null);
  // with the literal as written: JSON.parse's double of this text is 0.005's
  assert.equal(roundToHundredths(0.005, '0.00499999999999999999'), 0);
  assert.equal(roundToHundredths(0.005, '0.005'), 1);
  assert.equal(roundToHundredths(100, '1e2'), 10000);
  assert.equal(roundToHundredths(-1, '-1'), null);
  assert.equal(roundToHundredths(Number.POSITIVE_INFINITY, '1e400'), null);
});

test('divideRoundHalfUp', () => {
  assert.equal(divideRoundHalfUp(5n, 10n), 1n);
  assert.equal(divideRoundHalfUp(4n, 10n), 0n);
  assert.equal(divideRoundHalfUp(15n, 10n), 2n);
  assert.equal(divideRoundHalfUp(14n, 10n), 1n);
});

test('formatting hundredths', () => {
  assert.equal(hundredthsToNumber(50050), 500.5);
  assert.equal(hundredthsToNumber(4200), 42);
  assert.equal(hundredthsToNumber(72998), 729.98);
  assert.equal(JSON.stringify(hundredthsToNumber(1)), '0.01');
  assert.equal(formatHundredths(5000, true), '+50.00');
  assert.equal(formatHundredths(-5000), '-50.00');
  assert.equal(formatHundredths(7), '0.07');
});

test('every two-decimal amount survives a JSON round trip exactly', () => {
  for (let h = 0; h < 200_000; h += 7) {
    const text = JSON.stringify(hundredthsToNumber(h));
    const back = parsePositiveAmount(JSON.parse(text) as number);
    if (h === 0) continue;
    assert.deepEqual(back, { ok: true, hundredths: h }, text);
  }
});

test('every balance up to the maximum balance prints exactly as a JSON number', () => {
  // the JSON text must be the two-decimal amount itself ("…98.01", not the neighbouring "…98.02")
  const exact = (h: number) => formatHundredths(h).replace(/\.?0+$/, '');
  const samples = [MAX_BALANCE_HUNDREDTHS, MAX_BALANCE_HUNDREDTHS - 1, MAX_BALANCE_HUNDREDTHS - 99, 899_999_999_999_801, 123_456_789_012_345];
  let seed = 42;
  for (let i = 0; i < 100_000; i++) {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    samples.push(Math.floor((seed / 2 ** 32) * MAX_BALANCE_HUNDREDTHS));
  }
  for (const h of samples) assert.equal(JSON.stringify(hundredthsToNumber(h)), exact(h), String(h));
  assert.equal(JSON.stringify(hundredthsToNumber(MAX_BALANCE_HUNDREDTHS)), '10000000000000');
  assert.equal(JSON.stringify(hundredthsToNumber(MAX_BALANCE_HUNDREDTHS - 1)), '9999999999999.99');
  // what the maximum prevents: far above it, two hundredths share one double
  assert.notEqual(JSON.stringify(hundredthsToNumber(8_999_999_999_999_801)), '89999999999998.01');
});

test('a 64 KiB amount costs milliseconds: zeros are cut as text, not one BigInt division each', () => {
  // one withdrawal of `1.000…0` filling the body limit took a second of CPU before
  for (const [literal, expected] of [
    [`1.${'0'.repeat(65_000)}`, { ok: true, hundredths: 100 }],
    [`1.${'0'.repeat(64_990)}1`, { ok: false, reason: 'too_many_decimals' }],
  ] as const) {
    const started = performance.now();
    assert.deepEqual(parsePositiveAmount(1, true, literal), expected);
    assert.deepEqual(parsePositiveAmount(literal, true), expected);
    assert.ok(performance.now() - started < 300, `${performance.now() - started} ms`);
  }
});
