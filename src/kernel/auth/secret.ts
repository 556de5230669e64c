import { randomBytes } from 'node:crypto';
import type { Database } from '../db/database.js';

/**
 * The token secret when none is configured: generated once and stored in the service's schema
 * (`settings` table), so tokens survive restarts and every instance on the database agrees.
 */
export async function loadOrCreateSecret(db: Database, schema: string, key = 'jwt_secret'): Promise<string> {
  const candidate = randomBytes(48).toString('base64url');
  await db.query(`insert into ${schema}.settings (key, value) values ($1, $2) on conflict (key) do nothing`, [key, candidate]);
  const rows = await db.query<{ value: string }>(`select value from ${schema}.settings where key = $1`, [key]);
  const value = rows[0]?.value;
  if (!value) throw new Error(`secret ${key} missing after insert`);
  return value;
}
