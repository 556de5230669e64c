import type { Database } from '../../src/kernel/db/database.js';
import { openDatabase } from '../../src/kernel/db/open.js';
import { createLogger } from '../../src/kernel/logger.js';
import { loadConfig } from '../../src/kernel/config.js';
import { gophermartSettings } from '../../src/gophermart/config.js';
import { startGophermart } from '../../src/gophermart/main.js';
import { GophermartStore } from '../../src/gophermart/store.js';
import { freshDatabase } from '../support/postgres.js';
import { startBin } from '../support/process.js';

export const TEST_JWT_SECRET = 'test-secret-for-loyalty-api-tests-0123456789';

/** A running loyalty service plus direct store access for seeding (e.g. PROCESSED orders). */
export interface GophermartTarget {
  name: string;
  url: string;
  store: GophermartStore;
  /** The in-process app, when the service runs in this process (for the registered-routes check). */
  app?: object;
  close(): Promise<void>;
}

/** `bin/gophermart` as a separate process on a fresh real PostgreSQL database. */
export async function postgresTarget(env: Record<string, string> = {}): Promise<GophermartTarget> {
  const fresh = await freshDatabase('gm_api');
  const proc = await startBin('gophermart', {
    DATABASE_URI: fresh.url,
    ACCRUAL_SYSTEM_ADDRESS: 'http://127.0.0.1:9',
    JWT_SECRET: TEST_JWT_SECRET,
    ...env,
  });
  let db: Database;
  try {
    db = await openDatabase({ url: fresh.url, embeddedDir: 'unused', poolSize: 4 });
  } catch (err) {
    // nobody else can stop the service once this throws: a set-up that fails must not leave it running
    await proc.stop();
    await fresh.drop();
    throw err;
  }
  return {
    name: 'postgres',
    url: proc.url,
    store: new GophermartStore(db),
    async close() {
      await proc.stop();
      await db.close();
      await fresh.drop();
    },
  };
}

/** The same service factory in-process on the embedded database (in memory), on a real socket. */
export async function embeddedTarget(): Promise<GophermartTarget> {
  const result = loadConfig({ name: 'gophermart', summary: '' }, gophermartSettings, [], {
    RUN_ADDRESS: '127.0.0.1:0',
    DATA_DIR: 'memory://',
    ACCRUAL_SYSTEM_ADDRESS: 'http://127.0.0.1:9',
    JWT_SECRET: TEST_JWT_SECRET,
  });
  if (result.kind !== 'config') throw new Error('unexpected help');
  const running = await startGophermart(result.config, { logger: createLogger('gophermart', 'silent') });
  return { name: 'embedded', url: running.url, store: running.store, app: running.app, close: () => running.stop() };
}
