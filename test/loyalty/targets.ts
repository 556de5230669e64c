import type { Database } from '../../src/kernel/db/database.js';
import { openDatabase } from '../../src/kernel/db/open.js';
import { createLogger } from '../../src/kernel/logger.js';
import { loadConfig } from '../../src/kernel/config.js';
import { loyaltySettings } from '../../src/loyalty/config.js';
import { startLoyalty } from '../../src/loyalty/main.js';
import { LoyaltyStore } from '../../src/loyalty/store.js';
import { freshDatabase } from '../support/postgres.js';
import { startBin } from '../support/process.js';

export const TEST_JWT_SECRET = 'test-secret-for-loyalty-api-tests-0123456789';

/** A running loyalty service plus direct store access for seeding (e.g. PROCESSED orders). */
export interface LoyaltyTarget {
  name: string;
  url: string;
  store: LoyaltyStore;
  /** The in-process app, when the service runs in this process (for the registered-routes check). */
  app?: object;
  close(): Promise<void>;
}

/** `bin/gophermart` as a separate process on a fresh real PostgreSQL database. */
export async function postgresTarget(env: Record<string, string> = {}): Promise<LoyaltyTarget> {
  const fresh = await freshDatabase('gm_api');
  const proc = await startBin('gophermart', {
    DATABASE_URI: fresh.url,
    ACCRUAL_SYSTEM_ADDRESS: 'http://127.0.0.1:9',
    JWT_SECRET: TEST_JWT_SECRET,
    ...env,
  });
  const db: Database = await openDatabase({ url: fresh.url, embeddedDir: 'unused', poolSize: 4 });
  return {
    name: 'postgres',
    url: proc.url,
    store: new LoyaltyStore(db),
    async close() {
      await proc.stop();
      await db.close();
      await fresh.drop();
    },
  };
}

/** The same service factory in-process on the embedded database (in memory), on a real socket. */
export async function embeddedTarget(): Promise<LoyaltyTarget> {
  const result = loadConfig({ name: 'gophermart', summary: '' }, loyaltySettings, [], {
    RUN_ADDRESS: '127.0.0.1:0',
    DATA_DIR: 'memory://',
    ACCRUAL_SYSTEM_ADDRESS: 'http://127.0.0.1:9',
    JWT_SECRET: TEST_JWT_SECRET,
  });
  if (result.kind !== 'config') throw new Error('unexpected help');
  const running = await startLoyalty(result.config, { logger: createLogger('gophermart', 'silent') });
  return { name: 'embedded', url: running.url, store: running.store, app: running.app, close: () => running.stop() };
}
