import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { readsEnv, services } from '../../src/catalog.js';
import { ROOT } from '../support/process.js';

interface ComposeService {
  image?: string;
  build?: unknown;
  entrypoint?: string[];
  environment?: Record<string, string | number>;
  depends_on?: Record<string, unknown>;
}
const compose = parse(readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, ComposeService> };
const dockerfile = readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8');
const initSql = readFileSync(resolve(ROOT, 'deploy/postgres/init.sql'), 'utf8');

/** What a production deployment must set, beyond what the settings require (they all have defaults). */
const REQUIRED: Record<string, string[]> = {
  gophermart: ['RUN_ADDRESS', 'DATABASE_URI', 'ACCRUAL_SYSTEM_ADDRESS', 'JWT_SECRET'],
  accrual: ['RUN_ADDRESS', 'DATABASE_URI'],
  orchestrator: ['RUN_ADDRESS', 'DATABASE_URI', 'SHARD_ADDRESS_1', 'SHARD_TOKEN', 'ADMIN_TOKEN'],
  shard: ['RUN_ADDRESS', 'DATABASE_URI', 'SHARD_TOKEN'],
};

/** The platform's services in the compose file, with the bin/* each runs. */
const ours = Object.entries(compose.services)
  .filter(([, s]) => s.entrypoint !== undefined)
  .map(([name, s]) => {
    const m = /^bin\/([a-z]+)$/.exec(s.entrypoint?.[0] ?? '');
    assert.ok(m?.[1], `${name}: entrypoint must be ["bin/<name>"], got ${JSON.stringify(s.entrypoint)}`);
    const entry = services.find((e) => e.bin === m[1]);
    assert.ok(entry, `${name}: bin/${m[1]} is not a service of the platform`);
    return { name, service: s, entry };
  });

test('compose runs PostgreSQL 15, accrual, gophermart, the orchestrator and two shards, from the Dockerfile', () => {
  assert.match(compose.services.postgres?.image ?? '', /^postgres:15/);
  assert.deepEqual(ours.map((o) => o.entry.bin).sort(), ['accrual', 'gophermart', 'orchestrator', 'shard', 'shard']);
  for (const o of ours) {
    assert.equal(o.service.build, '.', `${o.name} builds from the Dockerfile`);
    assert.ok(existsSync(resolve(ROOT, 'bin', o.entry.bin)), `bin/${o.entry.bin} exists`);
    assert.ok(o.service.depends_on?.postgres, `${o.name} waits for postgres`);
  }
});

test('every environment name compose gives a service is a setting that service reads; required ones are set', () => {
  for (const { name, service, entry } of ours) {
    const env = service.environment ?? {};
    for (const key of Object.keys(env)) assert.ok(readsEnv(entry, key), `${name}: ${key} is not read by bin/${entry.bin}`);
    for (const key of REQUIRED[entry.bin] ?? []) assert.ok(key in env, `${name}: ${key} must be set`);
    // containers must listen beyond their own loopback
    assert.match(String(env.RUN_ADDRESS), /^0\.0\.0\.0:\d+$/, `${name}: RUN_ADDRESS`);
  }
});

test('service addresses point at services that exist, on the port they listen on; each database is created by the init script', () => {
  const port = (svc: string) =>
    String(compose.services[svc]?.environment?.RUN_ADDRESS ?? '')
      .split(':')
      .pop();
  const databases = new Set<string>();
  for (const { name, service } of ours) {
    const env = service.environment ?? {};
    for (const [key, value] of Object.entries(env)) {
      if (!/^(ACCRUAL_SYSTEM_ADDRESS|ORCHESTRATOR_ADDRESS|SHARD_ADDRESS_\d+)$/.test(key)) continue;
      const u = new URL(String(value));
      assert.ok(compose.services[u.hostname], `${name}: ${key} names unknown service ${u.hostname}`);
      assert.equal(u.port, port(u.hostname), `${name}: ${key} port`);
    }
    const db = /@postgres:5432\/([a-z0-9_]+)$/.exec(String(env.DATABASE_URI))?.[1];
    assert.ok(db, `${name}: DATABASE_URI must name a database on the postgres service`);
    assert.ok(new RegExp(`CREATE DATABASE ${db};`).test(initSql), `${name}: database ${db} is not created by deploy/postgres/init.sql`);
    assert.ok(!databases.has(db), `${name}: database ${db} is shared with another service`);
    databases.add(db);
  }
  // the web app's wallet pages reach the ledger through the loyalty service: its default
  // (localhost:8088) would be the gophermart container itself
  assert.equal(compose.services.gophermart?.environment?.ORCHESTRATOR_ADDRESS, 'http://orchestrator:8088');
  const shardAddresses = Object.keys(compose.services.orchestrator?.environment ?? {}).filter((k) => k.startsWith('SHARD_ADDRESS_'));
  assert.deepEqual(shardAddresses.sort(), ['SHARD_ADDRESS_1', 'SHARD_ADDRESS_2']);
});

test('Dockerfile: multi-stage on node:20-slim, npm ci + build, non-root runtime with the bin/* launchers', () => {
  const stages = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
  assert.ok(stages.length >= 2, 'multi-stage');
  for (const image of stages) assert.equal(image, 'node:20-slim');
  assert.match(dockerfile, /RUN npm ci\b/);
  assert.match(dockerfile, /npm run build/);
  assert.match(dockerfile, /^USER node$/m);
  assert.match(dockerfile, /^COPY .*\bbin \.\/bin$/m);
  assert.match(dockerfile, /^ENTRYPOINT \["bin\/[a-z]+"\]$/m);
  const ignored = readFileSync(resolve(ROOT, '.dockerignore'), 'utf8').split('\n');
  assert.ok(ignored.includes('node_modules') && ignored.includes('dist'), '.dockerignore keeps host builds out');
});
