import postgres from 'postgres';
import type { Logger } from '../logger.js';
import type { Database } from './database.js';

export interface ChannelHandlers {
  /** A notification on the channel (its payload). */
  onNotify(payload: string): void;
  /** LISTEN is in place: from now on every commit that notifies is delivered. */
  onListening(): void;
  /** The connection is gone or stopped answering: notifications may have been missed. */
  onLost(): void;
}

export interface ChannelListenerOptions {
  url: string;
  channel: string;
  applicationName: string;
  logger: Pick<Logger, 'warn' | 'info'>;
  /** How often the connection is checked with a round trip. */
  heartbeatMs?: number;
  /** A check not answered in this time counts as the connection lost. */
  heartbeatTimeoutMs?: number;
  /** Pause between attempts to listen again after a loss. */
  retryMs?: number;
}

export interface ChannelListener {
  close(): Promise<void>;
}

export const LISTENER_DEFAULTS = { heartbeatMs: 500, heartbeatTimeoutMs: 1000, retryMs: 500 } as const;

/**
 * PostgreSQL LISTEN on a connection of its own, for caches that must know about every commit.
 * A connection that closes, or does not answer a check within `heartbeatTimeoutMs` (a network
 * that drops packets closes nothing), is reported lost at once and replaced by a fresh one; the
 * listener keeps trying until it is closed. Only `onListening` after `onLost` says that nothing
 * is being missed again.
 */
export function listenOnChannel(options: ChannelListenerOptions, handlers: ChannelHandlers): ChannelListener {
  const heartbeatMs = options.heartbeatMs ?? LISTENER_DEFAULTS.heartbeatMs;
  const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? LISTENER_DEFAULTS.heartbeatTimeoutMs;
  const retryMs = options.retryMs ?? LISTENER_DEFAULTS.retryMs;
  const quoted = `"${options.channel.replace(/"/g, '""')}"`;
  let closed = false;
  let listening = false;
  let timer: NodeJS.Timeout | undefined;
  let sql: postgres.Sql | undefined;

  const lost = (reason: unknown): void => {
    const current = sql;
    sql = undefined;
    // a connection that misbehaved once is not trusted again: the next attempt opens a new one
    void current?.end({ timeout: 0 }).catch(() => undefined);
    if (listening) {
      listening = false;
      options.logger.warn({ channel: options.channel, err: reason }, 'notification connection lost: what it announces is not heard until it is back');
      handlers.onLost();
    }
  };

  const schedule = (ms: number): void => {
    if (closed) return;
    timer = setTimeout(() => void step(), ms);
    timer.unref();
  };

  const withTimeout = <T>(work: Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no answer within ${heartbeatTimeoutMs} ms`)), heartbeatTimeoutMs);
      work.then(
        (v) => {
          clearTimeout(t);
          resolve(v);
        },
        (err: unknown) => {
          clearTimeout(t);
          reject(err);
        },
      );
    });

  async function step(): Promise<void> {
    if (closed) return;
    try {
      if (!listening) {
        // onnotify is the driver's own hook (its listen() is built on it) but missing from its types
        const settings: postgres.Options<Record<string, never>> & { onnotify(channel: string, payload: string): void } = {
          max: 1,
          idle_timeout: 0,
          max_lifetime: null,
          fetch_types: false,
          connect_timeout: Math.max(1, Math.ceil(heartbeatTimeoutMs / 1000)),
          connection: { application_name: options.applicationName },
          onnotice: () => undefined,
          onnotify: (channel: string, payload: string) => {
            if (channel === options.channel && sql === client) handlers.onNotify(payload);
          },
          onclose: () => {
            if (sql === client) lost(new Error('connection closed'));
          },
        };
        const client = postgres(options.url, settings);
        sql = client;
        await withTimeout(client.unsafe(`listen ${quoted}`));
        if (closed || sql !== client) return;
        listening = true;
        options.logger.info({ channel: options.channel }, 'listening for notifications');
        handlers.onListening();
      } else {
        await withTimeout((sql as postgres.Sql).unsafe('select 1'));
      }
      schedule(heartbeatMs);
    } catch (err) {
      if (closed) return;
      if (listening) lost(err);
      else {
        const current = sql;
        sql = undefined;
        void current?.end({ timeout: 0 }).catch(() => undefined);
      }
      schedule(retryMs);
    }
  }

  void step();
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      listening = false;
      const current = sql;
      sql = undefined;
      await current?.end({ timeout: 1 }).catch(() => undefined);
    },
  };
}

/** PostgreSQL's limit on a notification payload is 8000 bytes; batches stay well under it. */
const MAX_PAYLOAD = 7000;

export interface ChannelPublisher {
  /** Announces `key` on the channel; resolves once the notification is sent (or could not be). */
  publish(key: string): Promise<void>;
}

/**
 * NOTIFY from outside the writing transaction, batched. A NOTIFY inside a writing transaction
 * (a trigger) holds PostgreSQL's one notification lock through the commit's WAL flush, so every
 * such commit in the database runs one after another: uploads fell to a tenth of `pgbench -N`.
 * Here one `select pg_notify(…)` is in flight at a time, with no transaction of its own to
 * flush; the keys changed meanwhile go out together in the next one (comma-separated), so the
 * busier the service, the more keys per statement — like a group commit. A failed send is not
 * retried: the readers' expiry bounds what it costs.
 */
export function channelPublisher(db: Pick<Database, 'query'>, channel: string): ChannelPublisher {
  interface Batch {
    keys: Set<string>;
    done: Promise<void>;
    resolve(): void;
  }
  let next: Batch | undefined;
  let sending = false;

  const payloads = (keys: Set<string>): string[] => {
    const out: string[] = [];
    let current = '';
    for (const key of keys) {
      if (current && current.length + key.length + 1 > MAX_PAYLOAD) {
        out.push(current);
        current = '';
      }
      current = current ? `${current},${key}` : key;
    }
    if (current) out.push(current);
    return out;
  };

  const flush = (): void => {
    const batch = next;
    if (!batch) return;
    next = undefined;
    sending = true;
    void Promise.all(payloads(batch.keys).map((p) => db.query('select pg_notify($1, $2)', [channel, p]).catch(() => undefined))).then(() => {
      sending = false;
      batch.resolve();
      flush();
    });
  };

  return {
    publish(key) {
      if (!next) {
        let resolve = (): void => undefined;
        const done = new Promise<void>((r) => {
          resolve = r;
        });
        next = { keys: new Set(), done, resolve };
      }
      const batch = next;
      batch.keys.add(key);
      if (!sending) flush();
      return batch.done;
    },
  };
}
