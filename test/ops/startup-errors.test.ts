import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { migrate } from '../../src/kernel/db/migrate.js';
import { openPostgres } from '../../src/kernel/db/postgres.js';
import { SCHEMA, migrations } from '../../src/ledger/orchestrator/migrations.js';
import { checkShardLayout } from '../../src/ledger/orchestrator/shard-layout.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';
import { ROOT } from '../support/process.js';

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs bin/<name> with only these variables; it must end by itself within the deadline. */
function runBin(name: string, env: Record<string, string>, deadlineMs = 60_000, args: string[] = []): Promise<Exit> {
  return new Promise((res, rej) => {
    const proc = spawn(resolve(ROOT, 'bin', name), args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      rej(new Error(`bin/${name} still running after ${deadlineMs} ms:\n${stdout}${stderr}`));
    }, deadlineMs);
    proc.on('close', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
  });
}

/** Exit 2 and exactly one line on stderr, matching `pattern`, no stack trace. */
function assertRefused(exit: Exit, pattern: RegExp): void {
  assert.equal(exit.code, 2, `exit code; stderr: ${exit.stderr}`);
  const lines = exit.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${exit.stderr}`);
  assert.match(lines[0] ?? '', pattern);
  assert.doesNotMatch(exit.stderr + exit.stdout, /\n\s+at /, 'no stack trace');
}

let db: FreshDatabase;
let busy: Server;
let busyPort: number;
let dir: string;

before(async () => {
  db = await freshDatabase('startup');
  dir = mkdtempSync(join(tmpdir(), 'gm-startup-'));
  busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  busyPort = (busy.address() as { port: number }).port;
});

after(async () => {
  busy.close();
  rmSync(dir, { recursive: true, force: true });
  await db.drop();
});

for (const name of ['shard', 'orchestrator']) {
  test(`bin/${name} refuses to start without SHARD_TOKEN: exit 2, one line naming it`, async () => {
    const env: Record<string, string> = { DATABASE_URI: db.url, RUN_ADDRESS: '127.0.0.1:0' };
    if (name === 'orchestrator') env.SHARD_ADDRESS_1 = '127.0.0.1:1';
    assertRefused(await runBin(name, env), new RegExp(`^${name}: SHARD_TOKEN must be set`));
    assertRefused(await runBin(name, { ...env, SHARD_TOKEN: '  ' }), /SHARD_TOKEN must be set/);
  });

  test(`bin/${name} refuses a SHARD_TOKEN that cannot travel as a Bearer token: exit 2, one line naming it, not the value`, async () => {
    // it used to start: "tok en" made every shard refuse every call (wallets stuck CREATING,
    // transfers waiting for ever), a token past U+00FF could not even be put into the header
    const env: Record<string, string> = { DATABASE_URI: db.url, RUN_ADDRESS: '127.0.0.1:0' };
    if (name === 'orchestrator') env.SHARD_ADDRESS_1 = '127.0.0.1:1';
    for (const token of ['secret with-a-space', ' secret-led-by-a-space', 'secret-\u043a\u043b\u044e\u0447', 'secret-tab\there']) {
      const exit = await runBin(name, { ...env, SHARD_TOKEN: token });
      assertRefused(exit, new RegExp(`^${name}: SHARD_TOKEN must be visible ASCII characters without spaces`));
      assert.doesNotMatch(exit.stderr + exit.stdout, /secret/, 'the value is not echoed');
    }
  });
}

test('bin/orchestrator refuses an ADMIN_TOKEN that cannot travel as a Bearer token: exit 2, one line naming it, not the value', async () => {
  // it used to start, and no deposit could ever be authorised: "Bearer ops secret" reads as no token (401)
  const env = { DATABASE_URI: db.url, RUN_ADDRESS: '127.0.0.1:0', SHARD_ADDRESS_1: '127.0.0.1:1', SHARD_TOKEN: 'startup-test-shard-token' };
  for (const token of ['ops secret', 'ops-\u00e9-secret', '  ']) {
    const exit = await runBin('orchestrator', { ...env, ADMIN_TOKEN: token });
    assertRefused(exit, /^orchestrator: ADMIN_TOKEN must be visible ASCII characters without spaces/);
    assert.doesNotMatch(exit.stderr + exit.stdout, /secret/, 'the value is not echoed');
  }
});

const needs: Record<string, Record<string, string>> = {
  gophermart: {},
  accrual: {},
  shard: { SHARD_TOKEN: 'startup-test-shard-token' },
  orchestrator: { SHARD_TOKEN: 'startup-test-shard-token', SHARD_ADDRESS_1: '127.0.0.1:1' },
};

for (const [name, extra] of Object.entries(needs)) {
  test(`bin/${name} on an address in use: exit 2, one line saying so`, async () => {
    const exit = await runBin(name, { ...extra, DATABASE_URI: db.url, RUN_ADDRESS: `127.0.0.1:${busyPort}` });
    assertRefused(exit, new RegExp(`^${name}: cannot start: address 127\\.0\\.0\\.1:${busyPort} is already in use`));
  });

  test(`bin/${name} on a listen host that does not resolve: exit 2, one line naming the address, not the database`, async () => {
    // getaddrinfo's ENOTFOUND was read as the database's: "cannot reach PostgreSQL … is DATABASE_URI right?"
    const exit = await runBin(name, { ...extra, DATABASE_URI: db.url, RUN_ADDRESS: 'no-such-host.invalid:0' });
    assertRefused(
      exit,
      new RegExp(`^${name}: cannot start: cannot listen on no-such-host\\.invalid:0: the host name "no-such-host\\.invalid" does not resolve`),
    );
    assert.doesNotMatch(exit.stderr, /PostgreSQL/);
  });

  test(`bin/${name} on a database that does not exist: exit 2, one line naming it, no password`, async () => {
    const url = new URL(db.url);
    url.password = 'pw-never-shown';
    url.pathname = '/no_such_database_here';
    const exit = await runBin(name, { ...extra, DATABASE_URI: url.toString(), RUN_ADDRESS: '127.0.0.1:0' });
    assertRefused(exit, /database "no_such_database_here" does not exist/);
    assert.doesNotMatch(exit.stderr, /pw-never-shown/);
  });

  test(`bin/${name} on a DATABASE_URI it cannot parse: exit 2, and its password in no line, debug included`, async () => {
    // a typo in the port: the URL parser's error carries the whole string it was given; it is
    // refused with the other settings, by name, before anything starts
    const uri = 'postgresql://gm:pw-never-logged@127.0.0.1:54x32/gophermart';
    const exit = await runBin(name, { ...extra, DATABASE_URI: uri, RUN_ADDRESS: '127.0.0.1:0', LOG_LEVEL: 'debug', LOG_FORMAT: 'json' });
    assertRefused(exit, /DATABASE_URI \(-d\) is not a valid URL/);
    assert.doesNotMatch(exit.stdout + exit.stderr, /pw-never-logged/);
    // not a PostgreSQL URL at all: the driver read `localhost:5432` as a database named "432"
    assertRefused(
      await runBin(name, { ...extra, DATABASE_URI: 'localhost:5432', RUN_ADDRESS: '127.0.0.1:0' }),
      /DATABASE_URI \(-d\) must be a URL like postgres:/,
    );
  });

  test(`bin/${name} with a bad setting: exit 2, one line naming it`, async () => {
    assertRefused(await runBin(name, { ...extra, DATABASE_URI: db.url, LOG_LEVEL: 'loud' }), /LOG_LEVEL must be one of/);
    // refused with the settings, before the database is opened (a missing one would be named instead)
    const nowhere = new URL(db.url);
    nowhere.pathname = '/no_such_database_here';
    assertRefused(await runBin(name, { ...extra, DATABASE_URI: nowhere.toString(), RUN_ADDRESS: '127.0.0.1:99999' }), /RUN_ADDRESS \(-a\): invalid port/);
  });

  test(`bin/${name} with a mistyped flag: exit 2, one line with commander's suggestion in it`, async () => {
    assertRefused(
      await runBin(name, { ...extra, DATABASE_URI: db.url }, 60_000, ['--hlep']),
      /unknown option '--hlep' \(Did you mean --help\?\) \(see bin\/\w+ --help\)$/,
    );
  });

  test(`bin/${name} with a config file key that names no setting: exit 2, one line naming the key and pointing to --help once`, async () => {
    const file = join(dir, `${name}-typo.yaml`);
    writeFileSync(file, 'run_adress: "127.0.0.1:0"\n');
    const exit = await runBin(name, { ...extra, DATABASE_URI: db.url, CONFIG: file });
    assertRefused(exit, new RegExp(`^${name}: config file .*: unknown setting "run_adress" \\(see bin/${name} --help\\)$`));
  });
}

const shardless = (): Record<string, string> => ({ DATABASE_URI: db.url, RUN_ADDRESS: '127.0.0.1:0', SHARD_TOKEN: 'startup-test-shard-token' });

test('bin/orchestrator with a shard address whose host is no host name: exit 2, one line naming it', async () => {
  const env = shardless();
  // a space typed into the host, and a list separated by semicolons: both were an uncaught TypeError, exit 1
  assertRefused(
    await runBin('orchestrator', { ...env, SHARD_ADDRESS_1: 'shard zero:9001' }),
    /^orchestrator: shard address "shard zero:9001" is not host:port/,
  );
  assertRefused(
    await runBin('orchestrator', { ...env, SHARD_ADDRESSES: '127.0.0.1:9001;127.0.0.1:9002' }),
    /^orchestrator: shard address "127\.0\.0\.1:9001;127\.0\.0\.1:9002" is not host:port/,
  );
});

test('bin/orchestrator with an empty entry in its shard list: exit 2, one line naming it', async () => {
  const env = shardless();
  // an empty entry started the orchestrator on one shard fewer, placing every wallet by the wrong N
  assertRefused(
    await runBin('orchestrator', { ...env, SHARD_ADDRESSES: '127.0.0.1:9001,,127.0.0.1:9003' }),
    /^orchestrator: SHARD_ADDRESSES \(--shards\): entry 2 of .* is empty/,
  );
});

test('bin/stack on a port in use, and on a data directory another process holds: exit 2, one line', async () => {
  const stackDir = join(dir, 'stack');
  const exit = await runBin('stack', {
    DATA_DIR: stackDir,
    HOST: '127.0.0.1',
    GOPHERMART_PORT: String(busyPort),
    ACCRUAL_PORT: '0',
    ORCHESTRATOR_PORT: '0',
    SHARD_PORTS: '0,0',
  });
  assertRefused(exit, new RegExp(`^stack: cannot start: address 127\\.0\\.0\\.1:${busyPort} is already in use`));
  // a lock held by a live process (this test's own pid)
  writeFileSync(join(stackDir, 'gophermart.lock'), String(process.pid));
  const locked = await runBin('stack', {
    DATA_DIR: stackDir,
    HOST: '127.0.0.1',
    GOPHERMART_PORT: '0',
    ACCRUAL_PORT: '0',
    ORCHESTRATOR_PORT: '0',
    SHARD_PORTS: '0,0',
  });
  assertRefused(locked, new RegExp(`^stack: cannot start: embedded database directory .* is in use by process ${process.pid}`));
});

test('bin/orchestrator with fewer shards than the ledger database places its wallets on: exit 2, one line', async () => {
  const ledger = await freshDatabase('startup_layout');
  try {
    const d = await openPostgres({ url: ledger.url, poolSize: 1 });
    await migrate(d, SCHEMA, migrations);
    await checkShardLayout(d, 2);
    const [user] = await d.query<{ id: number }>(`insert into ledger.users (login, password_hash) values ('layout', 'x') returning id`);
    await d.query(`insert into ledger.wallets (id, owner_id, shard) values ('11', $1, 1)`, [user?.id]);
    await d.close();
    const env = { DATABASE_URI: ledger.url, RUN_ADDRESS: '127.0.0.1:0', SHARD_TOKEN: 'startup-test-shard-token', SHARD_ADDRESS_1: '127.0.0.1:1' };
    assertRefused(
      await runBin('orchestrator', env),
      /^orchestrator: cannot start: SHARD_ADDRESS_\* names 1 shard, but this ledger database's wallets are placed on 2 shards/,
    );
  } finally {
    await ledger.drop();
  }
});
