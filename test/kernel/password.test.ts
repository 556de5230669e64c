import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hash as argon2Hash, Algorithm } from '@node-rs/argon2';
import { hashPassword, verifyPassword } from '../../src/kernel/auth/password.js';

test('new hashes are argon2id with m = 7 MiB, t = 5, p = 1 and verify', async () => {
  const stored = await hashPassword('correct horse');
  assert.match(stored, /^\$argon2id\$v=19\$m=7168,t=5,p=1\$/);
  assert.equal(await verifyPassword(stored, 'correct horse'), true);
  assert.equal(await verifyPassword(stored, 'correct horsE'), false);
});

test('a hash stored with the earlier parameters (m = 19 MiB, t = 2) still verifies', async () => {
  const legacy = await argon2Hash('battery staple', { memoryCost: 19_456, timeCost: 2, parallelism: 1, algorithm: Algorithm.Argon2id });
  assert.match(legacy, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  assert.equal(await verifyPassword(legacy, 'battery staple'), true);
  assert.equal(await verifyPassword(legacy, 'battery stable'), false);
});

test('an unknown login is refused', async () => {
  assert.equal(await verifyPassword(undefined, 'anything at all'), false);
});
