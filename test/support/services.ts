import { after, before } from 'node:test';
import { freshDatabase, type FreshDatabase } from './postgres.js';
import { startBin, type ServiceProcess } from './process.js';

export interface ServicesOnDatabase {
  /** The test file's fresh database (available once its `before` hook ran). */
  readonly db: FreshDatabase;
  /** Starts `bin/<name>` on that database; every process started is killed when the file ends. */
  start(name: string, env?: Record<string, string>): Promise<ServiceProcess>;
}

/**
 * Registers the file's hooks: a fresh PostgreSQL database before its tests, and after them
 * every process started through `start` killed and the database dropped.
 */
export function servicesOnFreshDatabase(prefix: string, baseEnv: Record<string, string> = {}): ServicesOnDatabase {
  let db: FreshDatabase | undefined;
  const started: ServiceProcess[] = [];
  before(async () => {
    db = await freshDatabase(prefix);
  });
  after(async () => {
    for (const svc of started) await svc.stop('SIGKILL');
    await db?.drop();
  });
  return {
    get db() {
      if (!db) throw new Error('the database exists once the before hook has run');
      return db;
    },
    async start(name, env = {}) {
      const svc = await startBin(name, { DATABASE_URI: this.db.url, ...baseEnv, ...env });
      started.push(svc);
      return svc;
    },
  };
}
