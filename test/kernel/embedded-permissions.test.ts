import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openEmbedded } from '../../src/kernel/db/pglite.js';

const dir = mkdtempSync(join(tmpdir(), 'gm-embedded-perm-'));
const dataDir = join(dir, 'data');
after(() => rmSync(dir, { recursive: true, force: true }));

/** Every path under `root` whose mode lets the group or others write (or read). */
function loosePaths(root: string): string[] {
  const found: string[] = [];
  const walk = (path: string): void => {
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) return;
    if ((stat.mode & 0o077) !== 0) found.push(`${(stat.mode & 0o777).toString(8)} ${path}`);
    if (stat.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(root);
  return found;
}

test('the embedded data directory and every file in it are the owner’s alone, also after a re-open', { timeout: 120_000 }, async () => {
  const db = await openEmbedded(dataDir);
  await db.exec('create table public.t (id int primary key); insert into public.t values (1)');
  assert.deepEqual(loosePaths(dataDir), []);
  assert.equal(lstatSync(join(dataDir, 'pg_hba.conf')).mode & 0o777, 0o600);
  assert.equal(lstatSync(join(dataDir, 'postgresql.conf')).mode & 0o777, 0o600);
  await db.close();

  // a directory left loose (by an older version, or by hand) is tightened when opened
  chmodSync(join(dataDir, 'postgresql.conf'), 0o666);
  chmodSync(dataDir, 0o777);
  const again = await openEmbedded(dataDir);
  assert.deepEqual(await again.query('select id from public.t'), [{ id: 1 }]);
  assert.deepEqual(loosePaths(dataDir), []);
  await again.close();
});
