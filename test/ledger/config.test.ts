import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/kernel/config.js';
import { orchestratorSettings } from '../../src/ledger/orchestrator/config.js';
import { shardSettings } from '../../src/ledger/shard/config.js';
import { stackSettings } from '../../src/stack.js';

function resolve(argv: string[], env: Record<string, string>) {
  const r = loadConfig({ name: 'orchestrator', summary: '' }, orchestratorSettings, argv, { SHARD_TOKEN: 'config-test-shard-token', ...env });
  if (r.kind !== 'config') throw new Error('unexpected help');
  return r.config.shards;
}

test('SHARD_ADDRESS_1..N in numeric order (shard 0 first), winning over --shards', () => {
  const env = {
    SHARD_ADDRESS_2: 'b:2',
    SHARD_ADDRESS_10: 'j:10',
    SHARD_ADDRESS_1: 'a:1',
    ...Object.fromEntries([3, 4, 5, 6, 7, 8, 9].map((i) => [`SHARD_ADDRESS_${i}`, `x:${i}`])),
  };
  assert.deepEqual(resolve(['--shards', 'flag:1,flag:2'], env), ['a:1', 'b:2', 'x:3', 'x:4', 'x:5', 'x:6', 'x:7', 'x:8', 'x:9', 'j:10']);
  assert.deepEqual(resolve(['--shards', 'flag:1, flag:2'], {}), ['flag:1', 'flag:2']);
  assert.deepEqual(resolve(['--shards', 'flag:1'], { SHARD_ADDRESSES: 'list:1,list:2' }), ['list:1', 'list:2'], 'the list form of the env wins over the flag');
  assert.deepEqual(resolve([], { SHARD_ADDRESSES: 'list:1', SHARD_ADDRESS_1: 'n:1' }), ['n:1'], 'the numbered form wins over the list');
});

test('a gap in the numbering or no shard at all is a configuration error', () => {
  assert.throws(
    () => resolve([], { SHARD_ADDRESS_1: 'a:1', SHARD_ADDRESS_3: 'c:3' }),
    (err: unknown) => err instanceof ConfigError && /SHARD_ADDRESS_2 is missing/.test(err.message),
  );
  assert.throws(() => resolve([], { SHARD_ADDRESS_2: 'b:2' }), ConfigError);
  assert.throws(
    () => resolve([], {}),
    (err: unknown) => err instanceof ConfigError && /^SHARD_ADDRESS_1\.\.N must be set/.test(err.message),
  );
  assert.throws(() => resolve([], { SHARD_ADDRESS_1: 'not an address' }), ConfigError);
});

test('an empty entry in the list, or a comma in a numbered address, is a configuration error: N is what was written', () => {
  for (const list of ['a:1,,c:3', 'a:1,b:2,', ',a:1'])
    for (const env of [{ SHARD_ADDRESSES: list }, {}] as Record<string, string>[])
      assert.throws(
        () => resolve(['--shards', list], env),
        (err: unknown) => err instanceof ConfigError && /^SHARD_ADDRESSES \(--shards\): entry \d of ".*" is empty/.test(err.message),
        `${list} (${Object.keys(env).join() || 'flag'})`,
      );
  assert.throws(
    () => resolve([], { SHARD_ADDRESS_1: 'a:1,b:2', SHARD_ADDRESS_2: 'c:3' }),
    (err: unknown) => err instanceof ConfigError && /^SHARD_ADDRESS_1 holds a comma/.test(err.message),
  );
});

test('a shard address whose host no URL can carry is a configuration error, not a crash', () => {
  for (const address of ['a b:80', '127.0.0.1:1;127.0.0.1:2'])
    assert.throws(
      () => resolve([], { SHARD_ADDRESS_1: address }),
      (err: unknown) => err instanceof ConfigError && err.message.includes(`shard address "${address}" is not host:port`),
      address,
    );
});

test('SHARD_TOKEN has no built-in value: unset or blank is a configuration error naming it', () => {
  for (const env of [{}, { SHARD_TOKEN: '' }, { SHARD_TOKEN: ' ' }])
    assert.throws(
      () => loadConfig({ name: 'orchestrator', summary: '' }, orchestratorSettings, [], { SHARD_ADDRESS_1: 'a:1', ...env }),
      (err: unknown) => err instanceof ConfigError && /^SHARD_TOKEN must be set/.test(err.message),
    );
  // with the shard addresses missing as well, the one line still names SHARD_TOKEN
  assert.throws(
    () => loadConfig({ name: 'orchestrator', summary: '' }, orchestratorSettings, [], {}),
    (err: unknown) => err instanceof ConfigError && /^SHARD_ADDRESS_1\.\.N must be set/.test(err.message) && /; SHARD_TOKEN must be set/.test(err.message),
  );
  const r = loadConfig({ name: 'orchestrator', summary: '' }, orchestratorSettings, ['--shard-token', 'from-the-flag'], { SHARD_ADDRESS_1: 'a:1' });
  assert.equal(r.kind === 'config' && r.config.shardToken, 'from-the-flag');
});

test('a shard address with a path, or not http(s), is refused with the settings; RECOVERY_INTERVAL and LEASE_DURATION of 0 too', () => {
  assert.deepEqual(resolve([], { SHARD_ADDRESS_1: 'http://127.0.0.1:9001/' }), ['http://127.0.0.1:9001/']);
  assert.throws(
    () => resolve([], { SHARD_ADDRESS_1: 'http://127.0.0.1:9001/ledger/' }),
    (err: unknown) => err instanceof ConfigError && /must not have a path/.test(err.message),
  );
  assert.throws(
    () => resolve([], { SHARD_ADDRESS_1: 'ftp://127.0.0.1:9001' }),
    (err: unknown) => err instanceof ConfigError && /not host:port/.test(err.message),
  );
  for (const name of ['RECOVERY_INTERVAL', 'LEASE_DURATION', 'CONFIRMATION_LIMIT']) {
    assert.throws(
      () => resolve([], { SHARD_ADDRESS_1: ':9001', [name]: '0' }),
      (err: unknown) => err instanceof ConfigError && err.message.startsWith(`${name} must be longer than 0`),
      name,
    );
  }
});

test('SHARD_TOKEN and ADMIN_TOKEN must be visible ASCII (they travel as a Bearer token), for the shard, the orchestrator and the stack alike', () => {
  const services = [
    { name: 'shard', specs: shardSettings, tokens: ['SHARD_TOKEN'] },
    { name: 'orchestrator', specs: orchestratorSettings, tokens: ['SHARD_TOKEN', 'ADMIN_TOKEN'] },
    { name: 'stack', specs: stackSettings, tokens: ['SHARD_TOKEN', 'ADMIN_TOKEN'] },
  ];
  const base = { SHARD_ADDRESS_1: 'a:1', SHARD_TOKEN: 'config-test-shard-token' };
  for (const { name, specs, tokens } of services)
    for (const token of tokens) {
      for (const value of ['zq zq', ' zq', 'zq\t', 'zq\u00e9', 'zq\u043a'])
        assert.throws(
          () => loadConfig({ name, summary: '' }, specs, [], { ...base, [token]: value }),
          (err: unknown) =>
            err instanceof ConfigError && err.message.startsWith(`${token} must be visible ASCII characters without spaces`) && !err.message.includes('zq'),
          `${name} ${token}=${JSON.stringify(value)}`,
        );
      const r = loadConfig({ name, summary: '' }, specs, [], { ...base, [token]: 'A-z0-9._~+/=!#$%&*' });
      assert.equal(r.kind, 'config', `${name} ${token}: every visible ASCII character is taken`);
    }
});
