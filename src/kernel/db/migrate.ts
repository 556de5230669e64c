import type { Database } from './database.js';

export interface Migration {
  version: number;
  name: string;
  /** Statements; unqualified names are not allowed — every table is `schema.table`. */
  sql: string;
}

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unsafe schema name ${name}`);
  return `"${name}"`;
}

/**
 * Applies the schema's missing migrations in version order, in one transaction under an
 * advisory lock, so concurrent start-ups of several instances apply each migration once and a
 * second start on a migrated database is a no-op. Returns the versions applied now.
 */
export async function migrate(db: Database, schema: string, migrations: readonly Migration[]): Promise<number[]> {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  const s = quoteIdent(schema);
  return db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock(hashtext($1)::bigint)', [`migrate:${schema}`]);
    await tx.exec(
      `create schema if not exists ${s};
       create table if not exists ${s}.schema_migrations (
         version integer primary key,
         name text not null,
         applied_at timestamptz not null default now()
       );`,
    );
    const rows = await tx.query<{ version: number }>(`select version from ${s}.schema_migrations`);
    const done = new Set(rows.map((r) => Number(r.version)));
    const applied: number[] = [];
    for (const m of sorted) {
      if (done.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.query(`insert into ${s}.schema_migrations (version, name) values ($1, $2)`, [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}
