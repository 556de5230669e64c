import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type NumberLiterals, numberLiterals } from '../../src/kernel/json-literal.js';

/** The literal of top-level member `member`, as the routes' money fields read it. */
const topLevelNumberLiteral = (json: string, member: string): string | undefined => numberLiterals(json).at([member]);

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

test('every number literal by its path, nested members and array elements included', () => {
  const text = '{"order":"1","goods":[{"description":"a,\\"b]","price":0.00499999999999999999},{"price":1e2,"x":[1,-2.5]}],"n":null,"t":true}';
  const literals = numberLiterals(text);
  assert.equal(literals.at(['goods', 0, 'price']), '0.00499999999999999999');
  assert.equal(literals.at(['goods', 1, 'price']), '1e2');
  assert.equal(literals.at(['goods', 1, 'x', 1]), '-2.5');
  assert.equal(literals.at(['order']), undefined);
  assert.equal(literals.at(['n']), undefined);
  assert.equal(literals.at(['goods', 0]), undefined);
  // a repeated member: the last occurrence, as JSON.parse keeps it
  assert.equal(numberLiterals('{"goods":[{"price":1.001}],"goods":[{"price":2.5}]}').at(['goods', 0, 'price']), '2.5');
  assert.equal(numberLiterals('{"a":[1,2],"a":[3,"x"]}').at(['a', 1]), undefined);
});

test('agrees with JSON.parse on every number of generated documents', () => {
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const numbers = ['0', '-0', '1', '1.10', '2.0000000000000001', '1e2', '1.5E-1', '-3.25e+5'];
  const names = ['"price"', '"\\u0070rice"', '"p\\"r"', '"goods"', '"0"'];
  const value = (depth: number): string => {
    const kind = depth > 3 ? pick(['n', 's', 'k']) : pick(['n', 's', 'o', 'a', 'k']);
    if (kind === 'n') return pick(numbers);
    if (kind === 's') return pick(['"price"', '"a\\\\"', '"{\\"price\\":1}"', '"]}"', '""']);
    if (kind === 'k') return pick(['true', 'false', 'null']);
    if (kind === 'a') return `[${Array.from({ length: Math.floor(random() * 3) }, () => value(depth + 1)).join(' , ')}]`;
    return `{${Array.from({ length: Math.floor(random() * 4) }, () => `${pick(names)} :${value(depth + 1)}`).join(',\n')}}`;
  };
  const walk = (v: unknown, path: Array<string | number>, literals: NumberLiterals, text: string): void => {
    const literal = literals.at(path);
    if (typeof v === 'number') {
      assert.ok(literal !== undefined && Object.is(Number(literal), v), `${text} at ${JSON.stringify(path)}`);
      return;
    }
    assert.equal(literal, undefined, `${text} at ${JSON.stringify(path)}`);
    if (Array.isArray(v)) {
      for (const [i, item] of v.entries()) walk(item, [...path, i], literals, text);
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, item] of Object.entries(v)) walk(item, [...path, k], literals, text);
    }
  };
  for (let n = 0; n < 3000; n++) {
    const text = value(0);
    walk(JSON.parse(text), [], numberLiterals(text), text);
  }
});

test('linear in the text however deep it nests: a body the size limit allows is read in milliseconds, not seconds', () => {
  // a scan that looked at the whole path at every bracket took 13 s on this 60 KB document
  const depth = 30_000;
  const text = `{"sum":1.5,"x":${'['.repeat(depth)}2${']'.repeat(depth)}}`;
  const started = performance.now();
  const literals = numberLiterals(text);
  assert.equal(literals.at(['sum']), '1.5');
  assert.equal(literals.at(['x', ...Array.from({ length: depth }, () => 0)]), '2');
  assert.ok(performance.now() - started < 2000, `${Math.round(performance.now() - started)} ms`);
});
