import assert from 'node:assert/strict';
import { test } from 'node:test';
import postgres from 'postgres';
import { getOrder, orderNumber, postOrder, postRule, waitFinal } from '../support/accrual.js';
import { call, signUp, uniqueLogin } from '../support/http.js';
import type { ServiceProcess } from '../support/process.js';
import { servicesOnFreshDatabase } from '../support/services.js';

// The course's CI points gophermart and accrual at one database: each keeps to its own schema.
const services = servicesOnFreshDatabase('acc_shared');
const run = (name: string, env: Record<string, string>): Promise<ServiceProcess> => services.start(name, env);

test('gophermart and accrual share one PostgreSQL database; restarting accrual keeps its data', { timeout: 40_000 }, async () => {
  const accrual = await run('accrual', { PROCESSING_DELAY: '0' });
  const gophermart = await run('gophermart', { ACCRUAL_SYSTEM_ADDRESS: accrual.url });

  // both work side by side
  const token = await signUp(gophermart.url, uniqueLogin('shared'));
  const number = orderNumber();
  const upload = await call(gophermart.url, 'POST', '/api/user/orders', { body: number, token, headers: { 'content-type': 'text/plain' } });
  assert.equal(upload.status, 202, upload.text);
  assert.equal((await postRule(accrual.url, 'Shared', 10, '%')).status, 200);
  assert.equal((await postOrder(accrual.url, number, [{ description: 'Shared thing', price: 250 }])).status, 202);
  assert.deepEqual(await waitFinal(accrual.url, number), { order: number, status: 'PROCESSED', accrual: 25 });

  // each service has its own schema and tables, nothing in public
  const sql = postgres(services.db.url, { max: 1, onnotice: () => undefined });
  try {
    const tables = await sql<{ table_schema: string; table_name: string }[]>`
      select table_schema, table_name from information_schema.tables
      where table_schema not in ('pg_catalog', 'information_schema') order by 1, 2`;
    const bySchema = new Map<string, string[]>();
    for (const t of tables) bySchema.set(t.table_schema, [...(bySchema.get(t.table_schema) ?? []), t.table_name]);
    assert.deepEqual(bySchema.get('accrual'), ['orders', 'rules', 'schema_migrations']);
    assert.ok(bySchema.get('gophermart')?.includes('orders'));
    assert.equal(bySchema.has('public'), false);
  } finally {
    await sql.end();
  }

  // restart accrual on the same database: nothing is wiped, gophermart is unaffected
  assert.equal(await accrual.stop('SIGTERM'), 0);
  const again = await run('accrual', { PROCESSING_DELAY: '0' });
  assert.deepEqual((await getOrder(again.url, number)).body, { order: number, status: 'PROCESSED', accrual: 25 });
  assert.equal((await postRule(again.url, 'Shared', 1, 'pt')).status, 409);
  const orders = await call(gophermart.url, 'GET', '/api/user/orders', { token });
  assert.equal(orders.status, 200);
  assert.equal((orders.json as Array<{ number: string }>)[0]?.number, number);

  // restarting gophermart does not touch accrual's data either
  assert.equal(await gophermart.stop('SIGTERM'), 0);
  const gm2 = await run('gophermart', { ACCRUAL_SYSTEM_ADDRESS: again.url });
  assert.equal((await call(gm2.url, 'GET', '/api/user/orders', { token })).status, 200);
  assert.equal((await getOrder(again.url, number)).body?.accrual, 25);
  assert.equal(await again.stop('SIGTERM'), 0);
  assert.equal(await gm2.stop('SIGTERM'), 0);
});
