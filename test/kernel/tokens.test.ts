import { createSigner } from 'fast-jwt';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTokenService } from '../../src/kernel/auth/tokens.js';

const SECRET = 'tokens-test-secret-0123456789abcdef';

test('verifies its own tokens, again and again, and nothing else', () => {
  const tokens = createTokenService(SECRET, 60_000, 'tokens-test');
  const token = tokens.sign('42');
  assert.deepEqual(tokens.verify(token), { sub: '42' });
  assert.deepEqual(tokens.verify(token), { sub: '42' });
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const flipped = `${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
  assert.equal(tokens.verify(`${header}.${payload}.${flipped}`), null);
  assert.equal(tokens.verify('not.a.token'), null);
  assert.equal(tokens.verify(''), null);
});

test('refuses a token signed with another key or for another issuer', () => {
  const tokens = createTokenService(SECRET, 60_000, 'tokens-test');
  assert.equal(tokens.verify(createTokenService('another-secret-0123456789abcdefgh', 60_000, 'tokens-test').sign('1')), null);
  assert.equal(tokens.verify(createTokenService(SECRET, 60_000, 'another-issuer').sign('1')), null);
  const withoutSubject = createSigner({ key: SECRET, algorithm: 'HS256', expiresIn: 60_000, iss: 'tokens-test' })({});
  assert.equal(tokens.verify(withoutSubject), null);
});

test('stops accepting a token once it expires, remembered or not', () => {
  let clock = Date.now();
  const tokens = createTokenService(SECRET, 60_000, 'tokens-test', () => clock);
  const remembered = tokens.sign('7');
  const unseen = tokens.sign('8');
  assert.deepEqual(tokens.verify(remembered), { sub: '7' });
  clock += 59_000 - 1_000; // exp is whole seconds: stay a second clear of it
  assert.deepEqual(tokens.verify(remembered), { sub: '7' });
  clock += 2_001 + 1_000;
  assert.equal(tokens.verify(remembered), null);
  assert.equal(tokens.verify(remembered), null);
  assert.equal(tokens.verify(unseen), null);
});

test('keeps verifying after more distinct tokens than it remembers', () => {
  const tokens = createTokenService(SECRET, 60_000, 'tokens-test');
  const first = tokens.sign('1');
  assert.deepEqual(tokens.verify(first), { sub: '1' });
  for (let i = 0; i < 10_050; i++) assert.notEqual(tokens.verify(tokens.sign(String(i + 2))), null);
  assert.deepEqual(tokens.verify(first), { sub: '1' });
});
