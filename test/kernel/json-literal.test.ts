import assert from 'node:assert/strict';
import { test } from 'node:test';
import { topLevelNumberLiteral } from '../../src/kernel/json-literal.js';

test('the literal of a top-level number member, as written', () => {
  assert.equal(topLevelNumberLiteral('{"order":"1","sum":1.100000000000000000001}', 'sum'), '1.100000000000000000001');
  assert.equal(topLevelNumberLiteral('{ "sum" :\n\t-0.5e+2 , "x": 1}', 'sum'), '-0.5e+2');
  assert.equal(topLevelNumberLiteral('{"sum":1e400}', 'sum'), '1e400');
  assert.equal(topLevelNumberLiteral('{"sum":"1.25"}', 'sum'), undefined);
  assert.equal(topLevelNumberLiteral('{"other":1}', 'sum'), undefined);
  assert.equal(topLevelNumberLiteral('{}', 'sum'), undefined);
});

test('only top-level members count; names and strings that look like them do not', () => {
  assert.equal(topLevelNumberLiteral('{"a":{"sum":9.999},"sum":2}', 'sum'), '2');
  assert.equal(topLevelNumberLiteral('{"a":[{"sum":9.999}],"b":"\\"sum\\":7","sum":3}', 'sum'), '3');
  assert.equal(topLevelNumberLiteral('{"a":"sum","b":{"sum":1}}', 'sum'), undefined);
  assert.equal(topLevelNumberLiteral('{"sum\\\\":5,"sum":6}', 'sum'), '6');
  assert.equal(topLevelNumberLiteral('{"a":"x\\\\","sum":7}', 'sum'), '7');
});

test('a repeated member gives the occurrence JSON.parse keeps: the last, escapes decoded', () => {
  assert.equal(topLevelNumberLiteral('{"sum":1.001,"sum":1.5}', 'sum'), '1.5');
  assert.equal(topLevelNumberLiteral('{"sum":1.5,"\\u0073um":1.001}', 'sum'), '1.001');
  assert.equal(topLevelNumberLiteral('{"sum":1.5,"sum":"x"}', 'sum'), undefined);
});

test('agrees with JSON.parse on generated documents', () => {
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const numbers = ['0', '-0', '1', '1.10', '2.0000000000000001', '1e2', '1.5E-1', '-3.25e+5', '123456789012345.678'];
  const names = ['"sum"', '"\\u0073um"', '"s\\"um"', '"amount"', '"sum "'];
  const space = () => pick(['', ' ', '\n\t', '\r\n ']);
  const value = (depth: number): string => {
    const kind = depth > 2 ? pick(['n', 's']) : pick(['n', 's', 'o', 'a', 'k']);
    if (kind === 'n') return pick(numbers);
    if (kind === 's') return pick(['"sum"', '"a\\\\"', '"{\\"sum\\":1}"', '"]}"', '""']);
    if (kind === 'k') return pick(['true', 'false', 'null']);
    if (kind === 'a') return `[${space()}${Array.from({ length: Math.floor(random() * 3) }, () => value(depth + 1)).join(`${space()},${space()}`)}]`;
    return object(depth + 1);
  };
  const object = (depth: number): string =>
    `{${space()}${Array.from({ length: Math.floor(random() * 4) }, () => `${pick(names)}${space()}:${space()}${value(depth)}`).join(`${space()},${space()}`)}${space()}}`;
  for (let n = 0; n < 5000; n++) {
    const text = object(0);
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const literal = topLevelNumberLiteral(text, 'sum');
    if (typeof parsed.sum === 'number') {
      assert.ok(literal !== undefined, text);
      assert.ok(Object.is(Number(literal), parsed.sum), text);
    } else {
      assert.equal(literal, undefined, text);
    }
  }
});
