import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { shardPaths } from '../src/ledger/protocol.js';
import { call } from './support/http.js';
import { freePort, startBin } from './support/process.js';

const dir = mkdtempSync(join(tmpdir(), 'gm-stack-tokens-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Starts `npm start`'s bin/stack on free ports in `dir`, reads its token files, stops it. */
async function startAndRead(): Promise<{ admin: string; shard: string; modes: number[]; shardStatus: { withToken: number; without: number } }> {
  const [shardPort, gophermartPort] = [await freePort(), await freePort()];
  const stack = await startBin('stack', {
    DATA_DIR: dir,
    HOST: '127.0.0.1',
    // startBin waits for /healthz at RUN_ADDRESS: the loyalty service's port
    RUN_ADDRESS: `127.0.0.1:${gophermartPort}`,
    GOPHERMART_PORT: String(gophermartPort),
    ACCRUAL_PORT: '0',
    ORCHESTRATOR_PORT: '0',
    SHARD_PORTS: String(shardPort),
  });
  try {
    const files = ['admin-token', 'shard-token'].map((n) => join(dir, n));
    const [admin, shard] = files.map((f) => readFileSync(f, 'utf8').trim()) as [string, string];
    const shardUrl = `http://127.0.0.1:${shardPort}`;
    const path = shardPaths.wallet('2');
    return {
      admin,
      shard,
      modes: files.map((f) => statSync(f).mode & 0o777),
      shardStatus: { withToken: (await call(shardUrl, 'GET', path, { token: shard })).status, without: (await call(shardUrl, 'GET', path)).status },
    };
  } finally {
    assert.equal(await stack.stop(), 0);
  }
}

test('npm start keeps a generated shard token beside the operator token (0600), re-used on the next start, and the shards take it', async () => {
  const first = await startAndRead();
  assert.deepEqual(first.modes, [0o600, 0o600]);
  assert.ok(first.shard.length >= 32, 'a long random token');
  assert.notEqual(first.shard, first.admin);
  assert.deepEqual(first.shardStatus, { withToken: 200, without: 401 });
  const second = await startAndRead();
  assert.equal(second.shard, first.shard, 'the shard token is re-used');
  assert.equal(second.admin, first.admin, 'the operator token is re-used');
  assert.deepEqual(second.modes, [0o600, 0o600]);
  assert.deepEqual(second.shardStatus, { withToken: 200, without: 401 });
});
