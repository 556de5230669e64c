import { ConfigError, parsers, secretSetting, type Setting } from './config.js';
import type { LogFormat } from './logger.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** How much is logged and in which form; every executable has these. */
export function loggingSettings(levelDefault = 'info', levelDefaultLabel?: string) {
  return {
    logLevel: {
      env: 'LOG_LEVEL',
      flag: '--log-level <level>',
      description: `log level: ${LOG_LEVELS.join(', ')}`,
      default: levelDefault,
      ...(levelDefaultLabel ? { defaultLabel: levelDefaultLabel } : {}),
      parse: (raw: string): string => {
        if (!LOG_LEVELS.includes(raw)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}; got "${raw}"`);
        return raw;
      },
    } satisfies Setting<string>,
    logFormat: {
      env: 'LOG_FORMAT',
      flag: '--log-format <format>',
      description: 'json (one JSON object per line), pretty (readable lines), or auto: pretty when stdout is a terminal, else json',
      default: 'auto',
      parse: (raw: string): LogFormat | 'auto' => {
        if (raw !== 'json' && raw !== 'pretty' && raw !== 'auto') throw new ConfigError(`LOG_FORMAT must be json, pretty or auto; got "${raw}"`);
        return raw;
      },
    } satisfies Setting<LogFormat | 'auto'>,
  };
}

/** The logging part of a service's settings, as runServiceCli reads it. */
export type LoggingConfig = { logLevel: string; logFormat: LogFormat | 'auto' };

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
    ...loggingSettings(),
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
