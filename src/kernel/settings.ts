import { parsers, type Setting } from './config.js';

/** Settings every service has; each service adds its own. */
export function commonSettings(service: string, defaultAddress: string) {
  return {
    address: {
      env: 'RUN_ADDRESS',
      flag: '-a, --address <address>',
      description: 'listen address: host:port, :port or URL',
      default: defaultAddress,
      parse: parsers.string,
    } satisfies Setting<string>,
    databaseUri: {
      env: 'DATABASE_URI',
      flag: '-d, --database-uri <uri>',
      description: 'PostgreSQL URL; without it the embedded database (PGlite) is used',
      default: undefined as string | undefined,
      defaultLabel: 'embedded',
      parse: parsers.optionalString,
      secret: true,
    } satisfies Setting<string | undefined>,
    dataDir: {
      env: 'DATA_DIR',
      flag: '--data-dir <dir>',
      description: 'data directory of the embedded database (memory:// keeps it in memory)',
      default: `data/${service}`,
      parse: parsers.string,
    } satisfies Setting<string>,
    databasePoolSize: {
      env: 'DATABASE_POOL_SIZE',
      flag: '--database-pool-size <n>',
      description: 'PostgreSQL connections in the pool',
      default: 10,
      parse: parsers.positiveInt('DATABASE_POOL_SIZE'),
    } satisfies Setting<number>,
    logLevel: {
      env: 'LOG_LEVEL',
      flag: '--log-level <level>',
      description: 'log level: fatal, error, warn, info, debug, trace, silent',
      default: 'info',
      parse: (raw: string): string => {
        if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(raw)) throw new Error(`unknown LOG_LEVEL ${raw}`);
        return raw;
      },
    } satisfies Setting<string>,
  };
}

/** Settings of services that sign users in (loyalty, orchestrator). */
export function tokenSettings() {
  return {
    jwtSecret: {
      env: 'JWT_SECRET',
      flag: '-k, --jwt-secret <secret>',
      description: 'token signing secret; without it one is generated once and stored in the database',
      default: undefined as string | undefined,
      defaultLabel: 'generated and stored in the database',
      parse: parsers.optionalString,
      secret: true,
    } satisfies Setting<string | undefined>,
    tokenTtlMs: {
      env: 'TOKEN_TTL',
      flag: '--token-ttl <duration>',
      description: 'token lifetime (ms, or with unit: 30m, 24h)',
      default: 24 * 3_600_000,
      defaultLabel: '24h',
      parse: parsers.durationMs('TOKEN_TTL'),
    } satisfies Setting<number>,
  };
}
