import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { acquireDirLock } from '../../src/kernel/db/dir-lock.js';
import { CREATING_MARK, openEmbedded } from '../../src/kernel/db/pglite.js';
import { StartupError } from '../../src/kernel/startup.js';
import { ROOT } from '../support/process.js';

// The embedded database's data directory: what it refuses to open, and its lock.
let root: string;
/** A data directory holding a real (small) database, made once and copied per case. */
let made: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'gm-datadir-'));
  made = join(root, 'made');
  const db = await openEmbedded(made);
  await db.exec('create table kept (n int); insert into kept values (42)');
  await db.close();
});

after(() => {
  rmSync(root, { recursive: true, force: true });
});

function copyOfMade(name: string): string {
  const dir = join(root, name);
  cpSync(made, dir, { recursive: true });
  return dir;
}

/** The start-up error openEmbedded refuses `dir` with. */
async function refusal(dir: string): Promise<string> {
  try {
    const db = await openEmbedded(dir);
    await db.close();
  } catch (err) {
    assert.ok(err instanceof StartupError, `a start-up error, not ${String(err)}`);
    return err.message;
  }
  throw new Error(`${dir} was opened`);
}

test('a database directory that lost PG_VERSION is refused, not made anew over its data', async () => {
  const dir = copyOfMade('no-version');
  rmSync(join(dir, 'PG_VERSION'));
  assert.match(await refusal(dir), /holds files but no embedded database \(no PG_VERSION\).*nothing was changed/);
  // the data is all still there: put the file back and the table reads as before
  cpSync(join(made, 'PG_VERSION'), join(dir, 'PG_VERSION'));
  const db = await openEmbedded(dir);
  try {
    assert.deepEqual(await db.query('select n from kept'), [{ n: 42 }]);
  } finally {
    await db.close();
  }
});

test('a directory of other files is refused, and their modes are left as they were', async () => {
  const dir = join(root, 'foreign');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  writeFileSync(join(dir, 'notes.txt'), 'mine');
  chmodSync(join(dir, 'notes.txt'), 0o644);
  chmodSync(join(dir, 'sub'), 0o755);
  assert.match(await refusal(dir), /holds files but no embedded database/);
  assert.equal(statSync(join(dir, 'notes.txt')).mode & 0o777, 0o644);
  assert.equal(statSync(join(dir, 'sub')).mode & 0o777, 0o755);
  assert.ok(!existsSync(join(dir, 'base')), 'no database was made in it');
  assert.ok(!existsSync(join(dir, 'gophermart.lock')), 'the lock is given back');
});

test('a damaged database: bin/gophermart exits 2 with one line naming the directory', { timeout: 90_000 }, () => {
  const dir = copyOfMade('damaged');
  truncateSync(join(dir, 'global', 'pg_control'), 0);
  const run = spawnSync(resolve(ROOT, 'bin', 'gophermart'), [], {
    env: { PATH: process.env.PATH ?? '', DATA_DIR: dir, RUN_ADDRESS: '127.0.0.1:0', JWT_SECRET: 'data-dir-test' },
    encoding: 'utf8',
    timeout: 80_000,
  });
  assert.equal(run.status, 2, run.stderr);
  const lines = run.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, run.stderr);
  assert.match(lines[0] ?? '', new RegExp(`embedded database in ${dir} cannot be opened .*: a damaged data directory\\?`));
});

test('a first start killed while it makes the database: the next start makes it again', { timeout: 120_000 }, async () => {
  const dir = join(root, 'killed-while-created');
  mkdirSync(dir);
  const script = `
    import { openEmbedded } from ${JSON.stringify(resolve(ROOT, 'src/kernel/db/pglite.ts'))};
    await openEmbedded(${JSON.stringify(dir)});
    console.log('opened');`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise<void>((res) => child.on('exit', () => res()));
  // killed as soon as PGlite has written the first file of the new cluster: the creation is then surely unfinished
  await new Promise<void>((res) => {
    const watcher = watch(dir, () => {
      if (readdirSync(dir).some((name) => !name.startsWith('gophermart.'))) {
        watcher.close();
        child.kill('SIGKILL');
        res();
      }
    });
  });
  await exited;
  assert.equal(out, '', 'killed before the database was made');
  assert.ok(!existsSync(join(dir, 'PG_VERSION')), 'the creation was cut short');

  const db = await openEmbedded(dir);
  try {
    await db.exec('create table kept (n int); insert into kept values (7)');
  } finally {
    await db.close();
  }
  assert.ok(!existsSync(join(dir, CREATING_MARK)), 'a made database carries no mark');
  const again = await openEmbedded(dir);
  try {
    assert.deepEqual(await again.query('select n from kept'), [{ n: 7 }]);
  } finally {
    await again.close();
  }
});

/** A process that stays alive until killed; its pid and start time (from /proc). */
function sleeper(): { pid: number; started: string; stop(): void } {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  const pid = child.pid ?? 0;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return { pid, started: stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '', stop: () => child.kill('SIGKILL') };
}

const boot = (): string => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

test('the lock: a live holder refuses; a dead one (or a zombie), or a pid now used by another process, is taken over', async () => {
  const dir = join(root, 'locks');
  mkdirSync(dir);
  const lock = join(dir, 'gophermart.lock');
  const other = sleeper();
  try {
    writeFileSync(lock, `${other.pid} ${other.started} ${boot()}`);
    assert.throws(() => acquireDirLock(dir), new RegExp(`in use by process ${other.pid}`));
    // an older lock with the pid alone: the pid's process is taken for its holder
    writeFileSync(lock, String(other.pid));
    assert.throws(() => acquireDirLock(dir), /in use by process/);
    // the same pid, another process (a reboot, or the pid handed out again)
    for (const stale of [`${other.pid} 1 ${boot()}`, `${other.pid} ${other.started} not-this-boot`]) {
      writeFileSync(lock, stale);
      const release = acquireDirLock(dir);
      assert.match(readFileSync(lock, 'utf8'), new RegExp(`^${process.pid} \\d+ ${boot()}$`));
      release();
      assert.ok(!existsSync(lock));
    }
  } finally {
    other.stop();
  }
  // a pid nobody runs any more
  writeFileSync(lock, '2147483646 1 x');
  acquireDirLock(dir)();
  // killed, and not yet reaped by its parent (a zombie keeps its pid and start time)
  // the child outlives the shell's exec (a `sleep 0` could end first, and the shell reap it):
  // its parent is then `sleep 30`, which never reaps
  const parent = spawn('sh', ['-c', 'sleep 1 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const zombie = await new Promise<number>((res) => parent.stdout.once('data', (d) => res(Number(String(d).trim()))));
    let stat = '';
    for (let i = 0; i < 300 && !/\) Z /.test(stat); i++) {
      stat = readFileSync(`/proc/${zombie}/stat`, 'utf8');
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.match(stat, /\) Z /, 'a zombie to lock with');
    writeFileSync(lock, `${zombie} ${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]} ${boot()}`);
    acquireDirLock(dir)();
  } finally {
    parent.kill('SIGKILL');
  }
});

test('the lock: of many starts that find one stale lock at once, exactly one takes it', { timeout: 60_000 }, async () => {
  const dir = join(root, 'race');
  mkdirSync(dir);
  const starts = 8;
  for (let round = 0; round < 2; round++) {
    writeFileSync(join(dir, 'gophermart.lock'), '2147483646 1 x');
    // all begin at one moment (after their start-up), and the one that takes it holds it while the others try
    const go = Date.now() + 3_000;
    const script = `
      import { acquireDirLock } from ${JSON.stringify(resolve(ROOT, 'src/kernel/db/dir-lock.ts'))};
      while (Date.now() < ${go}) {}
      try { acquireDirLock(${JSON.stringify(dir)}); console.log('took'); setTimeout(() => {}, 5000); }
      catch (err) { console.log(/in use/.test(err.message) ? 'refused' : 'error ' + err.message); }`;
    const outcomes = await Promise.all(
      Array.from(
        { length: starts },
        () =>
          new Promise<string>((res) => {
            const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
            let out = '';
            child.stdout.on('data', (d) => (out += d));
            child.on('exit', () => res(out.trim()));
          }),
      ),
    );
    assert.deepEqual(outcomes.sort(), ['refused', 'refused', 'refused', 'refused', 'refused', 'refused', 'refused', 'took'], `round ${round}`);
  }
});
