/**
 * The README's shell blocks, run as written (after the first, which is `npm start` / `npm test`)
 * in one bash session against the local PostgreSQL, so they cannot rot. The only changes made
 * to the text: the well-known ports become free ones, database names get a unique suffix
 * (dropped afterwards), a service started with `&` writes its logs to a file and is waited for
 * (its /healthz, within a deadline) before the next line runs, and its PID is reported so the
 * test stops it by PID. A command with a trailing `# → expected` comment must print the expected
 * text (`…` stands for anything; prose after two spaces is for the reader).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import postgres from 'postgres';
import { ADMIN_URL } from '../support/postgres.js';
import { freePort, ROOT } from '../support/process.js';

const README = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
const WELL_KNOWN_PORTS = ['8080', '8081', '8088', '8090', '8091'];
const SCRIPT_DEADLINE_MS = 180_000;

/** The fenced `sh` blocks, in order. */
function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '');
}

/** Joins backslash continuations: one entry per command as the shell sees it. */
function logicalLines(block: string): string[] {
  return block
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((l) => l.trim() !== '');
}

/** Splits `command   # → expected  prose` (the command's own `#`s are inside quotes or `$(...)`). */
function splitComment(line: string): { command: string; expected?: string } {
  const at = line.search(/\s#\s/);
  if (at < 0 || line.trimStart().startsWith('#')) return { command: line };
  const comment = line.slice(at).replace(/^\s*#\s*/, '');
  const expected = comment.startsWith('→') ? comment.slice(1).trim().split(/ {2,}/)[0] : undefined;
  return { command: line.slice(0, at).trimEnd(), ...(expected ? { expected } : {}) };
}

function expectationPattern(expected: string): RegExp {
  return new RegExp(
    expected
      .split('…')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('[\\s\\S]*'),
  );
}

interface Prepared {
  script: string;
  checks: Array<{ n: number; command: string; expected: string }>;
  databases: string[];
}

/** Turns the README's blocks into one script with the substitutions described at the top. */
function prepare(blocks: string[], ports: Record<string, number>, suffix: string, logFile: string): Prepared {
  let text = blocks.join('\n');
  for (const [known, free] of Object.entries(ports)) text = text.replace(new RegExp(`\\b${known}\\b`, 'g'), String(free));
  const databases = [...new Set([...text.matchAll(/postgres:\/\/[^/\s]+\/(\w+)/g)].map((m) => m[1] ?? ''))];
  const renamed = (name: string) => `${name}_${suffix}`;
  text = text.replace(/(postgres:\/\/[^/\s]+\/)(\w+)/g, (_, base: string, name: string) => base + renamed(name));
  const out = ['set -eo pipefail'];
  const checks: Prepared['checks'] = [];
  for (const line of logicalLines(text)) {
    const { command, expected } = splitComment(line);
    if (command.trimStart().startsWith('#')) continue;
    if (/\bcreatedb\b/.test(command)) {
      out.push(command.replace(/\b\w+\b/g, (word) => (databases.includes(word) ? renamed(word) : word)));
    } else if (command.endsWith('&')) {
      const port = /RUN_ADDRESS=\S*:(\d+)/.exec(command)?.[1];
      assert.ok(port, `a service started in the background needs RUN_ADDRESS with a port: ${command}`);
      out.push(
        `${command.slice(0, -1).trimEnd()} >>"${logFile}" 2>&1 &`,
        `pid=$!; echo "@@pid $pid"`,
        // wait (bounded) until it answers, or fail at once if it exited
        `for i in $(seq 600); do curl -sf http://localhost:${port}/healthz >/dev/null && break; kill -0 $pid 2>/dev/null || { echo "service on ${port} exited" >&2; exit 1; }; sleep 0.1; done`,
        `curl -sf http://localhost:${port}/healthz >/dev/null`,
      );
    } else if (expected) {
      const n = checks.length;
      checks.push({ n, command, expected });
      out.push(`echo "@@begin ${n}"`, command, `echo; echo "@@end ${n}"`);
    } else out.push(command);
  }
  return { script: out.join('\n'), checks, databases: databases.map(renamed) };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopByPid(pid: number): Promise<void> {
  if (!isAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 15_000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}

/** The session's output; services report their PIDs in it (`@@pid n`). */
let stdout = '';
const startedPids = (): number[] => [...stdout.matchAll(/^@@pid (\d+)$/gm)].map((m) => Number(m[1]));
const dir = mkdtempSync(join(tmpdir(), 'gm-readme-'));
let databases: string[] = [];

after(async () => {
  for (const pid of startedPids()) await stopByPid(pid);
  if (databases.length > 0) {
    const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined });
    for (const name of databases) await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
  rmSync(dir, { recursive: true, force: true });
});

test('the README starts the platform first and runs the test suite second', () => {
  const first = logicalLines(shellBlocks(README)[0] ?? '').map((l) => splitComment(l).command);
  assert.deepEqual(first, ['npm install && npm start', 'npm test']);
});

test('the README and docs link only inside the repository, and cite no outside document', () => {
  const docs = [
    'README.md',
    ...readdirSync(resolve(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  for (const file of docs) {
    const text = readFileSync(resolve(ROOT, file), 'utf8');
    const outside = /[^\n]*(SPEC|\.\.\/shared)[^\n]*/.exec(text)?.[0];
    assert.equal(outside, undefined, `${file} cites a document outside the repository`);
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = (m[1] ?? '').split('#')[0] ?? '';
      if (target === '') continue;
      assert.doesNotMatch(target, /^[a-z]+:/i, `${file}: ${target} leaves the repository`);
      const path = resolve(ROOT, file.includes('/') ? 'docs' : '.', target);
      assert.ok(path.startsWith(ROOT) && existsSync(path), `${file}: link ${target} points at nothing in the repository`);
    }
  }
});

test("the README's shell blocks work as written on fresh databases", { timeout: SCRIPT_DEADLINE_MS + 30_000 }, async () => {
  const blocks = shellBlocks(README).slice(1);
  assert.ok(blocks.length >= 4, 'the README shows the services on their own, with curl');
  const ports = Object.fromEntries(await Promise.all(WELL_KNOWN_PORTS.map(async (p) => [p, await freePort()] as const)));
  const logFile = join(dir, 'services.log');
  const prepared = prepare(blocks, ports, `readme_${process.pid}`, logFile);
  databases = prepared.databases;
  assert.ok(prepared.checks.length >= 10, 'the README says what its commands answer');

  const shell = spawn('bash', ['-c', prepared.script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: dir, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  shell.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  shell.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((res) => {
    const timer = setTimeout(() => shell.kill('SIGKILL'), SCRIPT_DEADLINE_MS);
    shell.on('exit', (c) => {
      clearTimeout(timer);
      res(c);
    });
  });
  const logs = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-4000) : '');
  assert.equal(code, 0, `the README's commands failed:\n${stderr}\n--- output\n${stdout.slice(-4000)}\n--- service logs\n${logs()}`);
  const pids = startedPids();
  assert.equal(pids.length, 5, 'accrual, gophermart, two shards and the orchestrator were started');

  for (const { n, command, expected } of prepared.checks) {
    const output = new RegExp(`@@begin ${n}\\n([\\s\\S]*?)\\n@@end ${n}`).exec(stdout)?.[1] ?? '';
    // the services' warnings say why an answer was not the README's (a 503, a refused start)
    assert.match(output, expectationPattern(expected), `README: \`${command}\` should print ${expected}\n--- service logs\n${logs()}`);
  }
  for (const pid of pids) {
    assert.ok(isAlive(pid), `service ${pid} is still running after the README's commands`);
    await stopByPid(pid);
  }
});
