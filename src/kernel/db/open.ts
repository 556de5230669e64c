import type { Logger } from '../logger.js';
import type { Database } from './database.js';
import { openPostgres } from './postgres.js';

export interface DatabaseSettings {
  /** PostgreSQL URL; absent means the embedded database. */
  url: string | undefined;
  /** Data directory of the embedded database (or `memory://`). */
  embeddedDir: string;
  poolSize?: number;
  applicationName?: string;
  /** Told when PostgreSQL goes away and comes back. */
  logger?: Pick<Logger, 'warn' | 'info'>;
}

/** An embedded data directory of `memory://` keeps the embedded database in memory only. */
export const IN_MEMORY = 'memory://';

export async function openDatabase(settings: DatabaseSettings): Promise<Database> {
  if (settings.url) {
    return openPostgres({ url: settings.url, poolSize: settings.poolSize, applicationName: settings.applicationName, logger: settings.logger });
  }
  // Loaded only when used: PGlite's module and WebAssembly cost memory a PostgreSQL-backed
  // process should not pay.
  const { openEmbedded } = await import('./pglite.js');
  return openEmbedded(settings.embeddedDir);
}
