#!/usr/bin/env node
// `npm run bench [-- name...]`: runs bench/<name>.ts (all of them by default) one after another.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const all = readdirSync('bench')
  .filter((f) => f.endsWith('.ts') && f !== 'support.ts')
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();
const wanted = process.argv.slice(2);
const chosen = wanted.length ? all.filter((n) => wanted.includes(n)) : all;
let failed = 0;
for (const name of chosen) {
  console.log(`\n## bench/${name}.ts`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', `bench/${name}.ts`], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
