/** A row as the drivers return it; stores narrow it to their own row types. */
export type Row = Record<string, unknown>;

export interface Queryable {
  /** One parameterised statement (`$1`, `$2`, …). */
  query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** A script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/**
 * The one storage interface: node PostgreSQL pool and embedded PGlite both implement it, so
 * every store runs the same SQL on both.
 */
export interface Database extends Queryable {
  readonly kind: 'postgres' | 'embedded';
  /**
   * The `application_name` every connection of this pool carries, unique to the pool: another
   * process sees this one alive while a session of that name is in `pg_stat_activity`. Absent
   * for the embedded database, which one process alone can open.
   */
  readonly session?: string;
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** PostgreSQL SQLSTATE of a driver error, if it is one. */
export function sqlState(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

export const SQLSTATE = {
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
  checkViolation: '23514',
  serializationFailure: '40001',
  deadlockDetected: '40P01',
} as const;

/**
 * int8 comes back from PostgreSQL as text; ids and hundredths are far below 2^53, so they are
 * handed to the code as numbers. A value that would lose precision is a fault, not data.
 */
export function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`int8 value ${text} exceeds the safe integer range`);
  return n;
}

/**
 * Deletes a backlog of expired rows chunk by chunk: `deleteChunk` deletes at most `chunk` rows
 * and says how many went; the chunks go on until one comes back short, or `maxChunks` went so
 * that one pass never holds its caller for ever. Returns how many rows went in all. (One chunk a
 * pass, once a minute, was outgrown by a single client writing rows faster.)
 */
export async function deleteInChunks(deleteChunk: () => Promise<number>, chunk: number, maxChunks: number): Promise<number> {
  let deleted = 0;
  for (let i = 0; i < maxChunks; i++) {
    const gone = await deleteChunk();
    deleted += gone;
    if (gone < chunk) break;
  }
  return deleted;
}
