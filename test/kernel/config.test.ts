import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/kernel/config.js';
import { gophermartSettings } from '../../src/gophermart/config.js';

const program = { name: 'gophermart', summary: 'test' };

function load(argv: string[], env: Record<string, string> = {}) {
  const r = loadConfig(program, gophermartSettings, argv, env);
  if (r.kind !== 'config') throw new Error('expected config');
  return r.config;
}

test('defaults', () => {
  const c = load([]);
  assert.equal(c.address, 'localhost:8080');
  assert.equal(c.accrualAddress, 'http://localhost:8081');
  assert.equal(c.databaseUri, undefined);
  assert.equal(c.tokenTtlMs, 86_400_000);
});

test('environment wins over flags, flags over file, file over defaults', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const yaml = join(dir, 'c.yaml');
  writeFileSync(yaml, 'RUN_ADDRESS: file:1\naccrual_address: http://file:2\njwtSecret: from-file\ntoken-ttl: 1h\n');
  const c = load(['-a', 'flag:1', '-r', 'http://flag:2', '-c', yaml], { RUN_ADDRESS: 'env:1' });
  assert.equal(c.address, 'env:1');
  assert.equal(c.accrualAddress, 'http://flag:2');
  assert.equal(c.jwtSecret, 'from-file');
  assert.equal(c.tokenTtlMs, 3_600_000);
});

test('JSON config file via CONFIG, Go-style -a=value flags', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const json = join(dir, 'c.json');
  writeFileSync(json, JSON.stringify({ DATABASE_URI: 'postgres://x/y', RUN_ADDRESS: 'file:9' }));
  const c = load(['-a=flag:3'], { CONFIG: json });
  assert.equal(c.databaseUri, 'postgres://x/y');
  assert.equal(c.address, 'flag:3');
});

test('empty environment values do not override', () => {
  assert.equal(load(['-a', 'flag:1'], { RUN_ADDRESS: '' }).address, 'flag:1');
});

test('--help returns text listing every env name; bad input is a ConfigError', () => {
  const r = loadConfig(program, gophermartSettings, ['--help'], {});
  assert.equal(r.kind, 'help');
  if (r.kind === 'help') for (const s of Object.values(gophermartSettings)) assert.match(r.text, new RegExp(s.env));
  assert.throws(() => load(['--no-such-flag']), ConfigError);
  assert.throws(() => load([], { TOKEN_TTL: 'soon' }), ConfigError);
  assert.throws(() => load(['-c', '/nonexistent/file.yaml']), ConfigError);
});

test('a config file key that names no setting is refused, naming it (a typo must not leave a default in place)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const yaml = join(dir, 'typo.yaml');
  writeFileSync(yaml, 'RUN_ADDRESS: localhost:1\naccrual_adress: http://x:2\n');
  assert.throws(
    () => load(['-c', yaml]),
    (err: unknown) => err instanceof ConfigError && /unknown setting "accrual_adress"/.test(err.message),
  );
  const json = join(dir, 'typo.json');
  writeFileSync(json, JSON.stringify({ run_address: 'localhost:1', 'poll-interval': '1s', bogus: 1, other: 2 }));
  assert.throws(
    () => load([], { CONFIG: json }),
    (err: unknown) => err instanceof ConfigError && /unknown settings "bogus", "other"/.test(err.message),
  );
});

test('durations that 0 would break are refused at 0; peer addresses are checked with the other settings', () => {
  for (const name of ['TOKEN_TTL', 'POLL_INTERVAL', 'POLL_BACKOFF_BASE', 'POLL_BACKOFF_MAX', 'ACCRUAL_TIMEOUT', 'POLL_LEASE']) {
    assert.throws(
      () => load([], { [name]: '0' }),
      (err: unknown) => err instanceof ConfigError && err.message.startsWith(`${name} must be longer than 0`),
      name,
    );
  }
  assert.equal(load([], { READ_CACHE_TTL: '0' }).readCacheTtlMs, 0, 'READ_CACHE_TTL=0 turns the read model off');
  for (const bad of ['http://localhost:notaport', 'http://x:99999', 'ftp://x:1', 'nohost']) {
    assert.throws(
      () => load(['-r', bad]),
      (err: unknown) => err instanceof ConfigError && /^ACCRUAL_SYSTEM_ADDRESS \(-r\): address/.test(err.message),
      bad,
    );
  }
  assert.throws(
    () => load([], { ORCHESTRATOR_ADDRESS: 'x:y' }),
    (err: unknown) => err instanceof ConfigError && /^ORCHESTRATOR_ADDRESS: address/.test(err.message),
  );
  for (const good of ['localhost:8081', ':8081', 'http://127.0.0.1:8081/', 'https://accrual.example:443/base'])
    assert.equal(load(['-r', good]).accrualAddress, good);
});

test('DATABASE_URI must be a postgres:// URL, refused by name without echoing the password', () => {
  const refused = (uri: string, pattern: RegExp) =>
    assert.throws(
      () => load([], { DATABASE_URI: uri }),
      (err: unknown) => err instanceof ConfigError && pattern.test(err.message) && !err.message.includes('s3cret'),
    );
  // The driver read `localhost:5432` as database "432" and `mysql://…` as a PostgreSQL login.
  refused('localhost:5432', /^DATABASE_URI \(-d\) must be a URL like postgres:/);
  refused('host=db password=s3cret', /^DATABASE_URI \(-d\) must be a URL/);
  refused('mysql://app:s3cret@db/app', /^DATABASE_URI \(-d\) must be a postgres:\/\/ or postgresql:\/\/ URL, got a mysql:\/\/ one$/);
  refused('postgres://app:s3cret@db:99999/app', /^DATABASE_URI \(-d\) is not a valid URL/);
  for (const ok of ['postgres://app:s3cret@db:5432/app', 'postgresql://db/app?sslmode=disable', 'postgres://app:s3cret@h1:5432,h2:5433/app']) {
    assert.equal(load([], { DATABASE_URI: ok }).databaseUri, ok);
  }
  assert.equal(load(['-d', '']).databaseUri, undefined);
});

test('LOG_LEVEL and LOG_FORMAT are read in any case, as operators write them (LOG_LEVEL=INFO), and passed on in the logger’s lower case', () => {
  const c = load(['--log-format', 'Pretty'], { LOG_LEVEL: 'DEBUG' });
  assert.equal(c.logLevel, 'debug');
  assert.equal(c.logFormat, 'pretty');
  assert.equal(load([], { LOG_FORMAT: 'JSON', LOG_LEVEL: ' Warn ' }).logFormat, 'json');
  assert.equal(load([], { LOG_LEVEL: ' Warn ' }).logLevel, 'warn');
  assert.throws(
    () => load([], { LOG_LEVEL: 'LOUD' }),
    (e: unknown) => e instanceof ConfigError && /LOG_LEVEL must be one of .*got "LOUD"/.test(e.message),
  );
});
