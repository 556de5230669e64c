import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');

/** A free loopback port (bound and released; good enough for tests on one machine). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

export interface ServiceProcess {
  url: string;
  port: number;
  proc: ChildProcess;
  /** stdout and stderr interleaved as they came. */
  output(): string;
  /** stdout alone (the log lines) and stderr alone (messages for people). */
  stdout(): string;
  stderr(): string;
  /** Sends the signal and resolves with the exit code (null when killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function waitForHealthy(url: string, timeoutMs = 20_000, proc?: ChildProcess, output?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc && proc.exitCode !== null) throw new Error(`process exited with ${proc.exitCode} before becoming healthy:\n${output?.() ?? ''}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not healthy within ${timeoutMs} ms:\n${output?.() ?? ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts `bin/<name>` the way a harness would: only its path and environment variables.
 * RUN_ADDRESS is set to a free loopback port unless given.
 */
export async function startBin(
  name: string,
  env: Record<string, string>,
  args: string[] = [],
  // the whole stack opens the embedded database and five services: slower on a loaded machine
  healthyWithinMs = name === 'stack' ? 90_000 : 30_000,
): Promise<ServiceProcess> {
  const port = env.RUN_ADDRESS ? Number(env.RUN_ADDRESS.split(':').pop()) : await freePort();
  const proc = spawn(resolve(ROOT, 'bin', name), args, {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', RUN_ADDRESS: `127.0.0.1:${port}`, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let stdout = '';
  let stderr = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    stdout += d.toString();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
    stderr += d.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  const service: ServiceProcess = {
    url,
    port,
    proc,
    output: () => out,
    stdout: () => stdout,
    stderr: () => stderr,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      return exited;
    },
  };
  try {
    await waitForHealthy(url, healthyWithinMs, proc, () => out);
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  }
  return service;
}
