import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface KeptSecret {
  value: string;
  /** The file it is kept in; absent when it came from the settings. */
  file?: string;
}

/**
 * A secret of the zero-set-up run (operator token, shard token): the configured value, else
 * the one kept in `<dir>/<name>`, else a new random one written there. The file is readable by
 * its owner only (0600, also when an older file was looser) and re-used on later starts, so
 * scripts holding the token keep working across restarts. Never logged.
 */
export function keptSecret(configured: string | undefined, dir: string, name: string): KeptSecret {
  if (configured) return { value: configured };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, name);
  const existing = readIfPresent(file);
  if (existing) {
    chmodSync(file, 0o600);
    return { value: existing, file };
  }
  const value = randomBytes(24).toString('base64url');
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { value, file };
}

function readIfPresent(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
