import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { ConfigError, loadConfig } from '../../src/kernel/config.js';
import { normaliseClientAddress, parseTrustProxy } from '../../src/kernel/http/trust-proxy.js';
import { gophermartSettings } from '../../src/gophermart/config.js';
import { ROOT } from '../support/process.js';

const run = promisify(execFile);

test('TRUST_PROXY: addresses, CIDR ranges and range names; empty trusts nobody', () => {
  assert.deepEqual(parseTrustProxy(''), []);
  assert.deepEqual(parseTrustProxy(' 10.0.3.7 , 10.0.0.0/8,fd00::/8, ::1,loopback,linklocal,uniquelocal '), [
    '10.0.3.7',
    '10.0.0.0/8',
    'fd00::/8',
    '::1',
    'loopback',
    'linklocal',
    'uniquelocal',
  ]);
  for (const bad of ['proxy.example', '10.0.0.0/33', '::/129', '10.0.0.1/8/1', '10.0.0', 'true', '*', '10.0.0.0/']) {
    assert.throws(() => parseTrustProxy(bad), ConfigError, bad);
  }
});

test('the default trusts nobody; the setting reaches the config of every service', () => {
  const load = (env: Record<string, string>) => {
    const r = loadConfig({ name: 'gophermart', summary: '' }, gophermartSettings, [], env);
    if (r.kind !== 'config') throw new Error('expected config');
    return r.config;
  };
  assert.deepEqual(load({}).trustProxy, []);
  assert.deepEqual(load({ TRUST_PROXY: '127.0.0.1' }).trustProxy, ['127.0.0.1']);
  const limits = load({});
  assert.equal(limits.headersTimeoutMs, 10_000);
  assert.equal(limits.requestTimeoutMs, 30_000);
  assert.equal(limits.keepAliveTimeoutMs, 5_000);
  assert.equal(limits.loginFailuresPerPair, 10);
  assert.equal(limits.loginFailuresPerAddress, 100);
  assert.equal(limits.loginFailureWindowMs, 15 * 60_000);
  assert.throws(() => load({ HTTP_HEADERS_TIMEOUT: '0' }), /HTTP_HEADERS_TIMEOUT must be longer than 0/);
});

test('a bad TRUST_PROXY stops a service at start-up: exit 2, naming the setting', async () => {
  const err = await run(resolve(ROOT, 'bin', 'accrual'), [], { env: { PATH: process.env.PATH ?? '', TRUST_PROXY: 'my-proxy' }, timeout: 15_000 }).then(
    () => assert.fail('started with a bad TRUST_PROXY'),
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal(err.code, 2);
  assert.match(err.stderr, /TRUST_PROXY must list IP addresses/);
});

test('an IPv4 client on a dual-stack socket is one client, however it is spelled', () => {
  assert.equal(normaliseClientAddress('::ffff:10.0.0.1'), '10.0.0.1');
  assert.equal(normaliseClientAddress('::FFFF:10.0.0.1'), '10.0.0.1');
  assert.equal(normaliseClientAddress('10.0.0.1'), '10.0.0.1');
  assert.equal(normaliseClientAddress('::ffff:255.1.0.254'), '255.1.0.254');
  assert.equal(normaliseClientAddress('2001:DB8::1'), '2001:db8::1');
  assert.equal(normaliseClientAddress('2001:db8:0:0:0:0:0:1'), '2001:db8::1');
  assert.equal(normaliseClientAddress('::1'), '::1');
  // a link-local address with its zone: canonical before the zone, which tells interfaces apart
  assert.equal(normaliseClientAddress('FE80:0::1%eth0'), 'fe80::1%eth0');
  assert.notEqual(normaliseClientAddress('fe80::1%eth0'), normaliseClientAddress('fe80::1%eth1'));
  // what a misbehaving proxy forwards is kept short, and never mistaken for an address
  assert.equal(normaliseClientAddress(`x${'y'.repeat(5000)}`), `unparsed:x${'y'.repeat(63)}`);
});
