import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { withLuhnCheckDigit } from '../../src/kernel/luhn.js';
import { assertAlive, outageRounds, Recorder } from '../support/outage.js';
import { createPgCluster, type PgCluster } from '../support/pg-cluster.js';
import { startBin, type ServiceProcess } from '../support/process.js';

/**
 * bin/accrual on a private PostgreSQL that is stopped twice under load (fast, then
 * immediate), ≈5 s each: nothing exits, every answer while it is away is the 503 within 2 s,
 * normal answers within 5 s of its return, and afterwards every acknowledged (202) order is
 * readable and reaches its final status once (the processor resumed by itself).
 */
const WORKERS = 8;

let cluster: PgCluster;
let accrual: ServiceProcess;

before(async () => {
  cluster = await createPgCluster();
  await cluster.start();
  const url = await cluster.createDatabase('accrual');
  accrual = await startBin('accrual', { DATABASE_URI: url, DATABASE_POOL_SIZE: '4', PROCESSING_DELAY: '300ms', RATE_LIMIT: '0', LOG_LEVEL: 'warn' });
});

after(async () => {
  await accrual?.stop('SIGKILL');
  await cluster?.destroy();
});

let sequence = 0;
const nextOrder = (): string => withLuhnCheckDigit(`${5_500_000_000 + process.pid * 10_000 + sequence++}`);

test('accrual: PostgreSQL stopped twice under load; every acknowledged order is kept and finished once', { timeout: 90_000 }, async () => {
  const rule = await fetch(`${accrual.url}/api/goods`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ match: 'Outage', reward: 10, reward_type: '%' }),
  });
  assert.equal(rule.status, 200, await rule.text());
  const accepted = new Set<string>();
  const recorder = new Recorder();
  let running = true;
  const worker = async (w: number): Promise<void> => {
    const mine: string[] = [];
    for (let i = 0; running; i++) {
      let status: number;
      if (i % 2 === 0 || mine.length === 0) {
        const number = nextOrder();
        ({ status } = await recorder.time('register', () =>
          fetch(`${accrual.url}/api/orders`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ order: number, goods: [{ description: `Outage kettle ${w}`, price: 200 }] }),
            signal: AbortSignal.timeout(10_000),
          }),
        ));
        if (status === 202) {
          accepted.add(number);
          mine.push(number);
        }
      } else {
        const number = mine[i % mine.length] as string;
        ({ status } = await recorder.time('read', () => fetch(`${accrual.url}/api/orders/${number}`, { signal: AbortSignal.timeout(10_000) })));
      }
      if (status === 503) await new Promise((r) => setTimeout(r, 20));
    }
  };
  const probe = nextOrder();
  const normal = async (): Promise<boolean> => {
    const res = await fetch(`${accrual.url}/api/orders/${probe}`);
    await res.text();
    return res.status === 204;
  };
  const load = Array.from({ length: WORKERS }, (_, w) => worker(w));
  const figures = await outageRounds({
    cluster,
    services: [accrual],
    normal,
    recorder,
    normalStatuses: [200, 202, 204],
    stopLoad: async () => {
      running = false;
      await Promise.all(load);
    },
  });
  assertAlive([accrual]);
  console.log(JSON.stringify({ service: 'accrual', figures, requests: recorder.samples.length, accepted: accepted.size }));

  const deadline = Date.now() + 20_000;
  for (const number of accepted) {
    for (;;) {
      const res = await fetch(`${accrual.url}/api/orders/${number}`);
      assert.equal(res.status, 200, `acknowledged order ${number}: ${res.status}`);
      const body = (await res.json()) as { order: string; status: string; accrual?: number };
      if (body.status === 'PROCESSED') {
        assert.deepEqual(body, { order: number, status: 'PROCESSED', accrual: 20 });
        break;
      }
      assert.ok(Date.now() < deadline, `order ${number} still ${body.status} after the outages`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
});
