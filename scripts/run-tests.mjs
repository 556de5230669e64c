#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's test runner through tsx, one process per file,
// TEST_CONCURRENCY files at a time (Node 20 expands no globs and finds no .ts files itself).
// A failing file fails the run: nothing is re-run, since a test that passes only on a second
// try is a defect. The last line is the total: "N passed, M failed".
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = findTests('test')
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files match', filters);
  process.exit(1);
}
const concurrency = Number(process.env.TEST_CONCURRENCY ?? 3);
const env = { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' };

// A file that runs past this is killed with everything it started, and fails: a fixture that
// leaked a service (a set-up that failed half way) would otherwise keep its process, and the
// whole run, alive for ever. The longest file takes about a minute and a half.
const fileDeadlineMs = Number(process.env.TEST_FILE_TIMEOUT_MS ?? 10 * 60_000);
/** The process groups of the files running now (each file runs in a group of its own). */
const running = new Set();

/** Ends a file's process and everything it started (its services, their helpers). */
function killGroup(child) {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of running) killGroup(child);
    process.exit(130);
  });
}

/** Runs one file; resolves with its exit code, counts and output (printed whole, never interleaved). */
function runFile(file) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', '--import', 'tsx', '--test-reporter=spec', file], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    running.add(child);
    let output = '';
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, fileDeadlineMs);
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => {
      clearTimeout(deadline);
      running.delete(child);
      // whatever it started and left behind goes with it
      killGroup(child);
      if (timedOut) output += `\n✖ ${file} ran past ${fileDeadlineMs / 1000} s: killed, with every process it started\n`;
      const count = (label) => Number(new RegExp(`^ℹ ${label} (\\d+)$`, 'm').exec(output)?.[1] ?? 0);
      resolve({ file, code: timedOut ? 1 : (code ?? 1), output, pass: count('pass'), fail: count('fail'), skipped: count('skipped') });
    });
  });
}

async function runAll(list, parallel) {
  const results = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, list.length) }, async () => {
      while (next < list.length) {
        const file = list[next++];
        const result = await runFile(file);
        process.stdout.write(`\n# ${file}\n${result.output}`);
        results.push(result);
      }
    }),
  );
  return results;
}

const started = Date.now();
const final = await runAll(files, concurrency);
const failedFiles = final.filter((r) => r.code !== 0);
const passed = final.reduce((n, r) => n + r.pass, 0);
const failed = final.reduce((n, r) => n + r.fail, 0) + failedFiles.filter((r) => r.fail === 0).length;
const skipped = final.reduce((n, r) => n + r.skipped, 0);
console.log(
  `\n# ${files.length} files in ${((Date.now() - started) / 1000).toFixed(1)} s${failedFiles.length ? `; failing: ${failedFiles.map((r) => r.file).join(', ')}` : ''}`,
);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failedFiles.length > 0 ? 1 : 0);
