import { ConfigError, parsers, secretSetting, type Setting } from './config.js';

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
    databaseUri: secretSetting('DATABASE_URI', '-d, --database-uri <uri>', 'PostgreSQL URL; without it the embedded database (PGlite) is used', 'embedded'),
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
        if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(raw))
          throw new ConfigError(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent; got "${raw}"`);
        return raw;
      },
    } satisfies Setting<string>,
  };
}

/** Settings of services that sign users in (loyalty, orchestrator). */
export function tokenSettings() {
  return {
    jwtSecret: secretSetting(
      'JWT_SECRET',
      '-k, --jwt-secret <secret>',
      'token signing secret; without it one is generated once and stored in the database',
      'generated and stored in the database',
    ),
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
