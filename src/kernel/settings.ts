import { ConfigError, databaseUriSetting, parsers, secretSetting, type Setting } from './config.js';
import { DEFAULT_LOGIN_LIMITS, type LoginLimits } from './auth/login-window.js';
import { parseTrustProxy } from './http/trust-proxy.js';
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
      // in any case, as operators write it (`LOG_LEVEL=INFO`); pino's names are lower case
      parse: (raw: string): string => {
        const level = raw.trim().toLowerCase();
        if (!LOG_LEVELS.includes(level)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}; got "${raw}"`);
        return level;
      },
    } satisfies Setting<string>,
    logFormat: {
      env: 'LOG_FORMAT',
      flag: '--log-format <format>',
      description: 'json (one JSON object per line), pretty (readable lines), or auto: pretty when stdout is a terminal, else json',
      default: 'auto',
      parse: (raw: string): LogFormat | 'auto' => {
        const format = raw.trim().toLowerCase();
        if (format !== 'json' && format !== 'pretty' && format !== 'auto') throw new ConfigError(`LOG_FORMAT must be json, pretty or auto; got "${raw}"`);
        return format;
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
      parse: parsers.listenAddress('RUN_ADDRESS (-a)'),
    } satisfies Setting<string>,
    databaseUri: databaseUriSetting('PostgreSQL URL; without it the embedded database (PGlite) is used', 'embedded'),
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
    ...httpSettings(),
  };
}

/** How long the HTTP server waits for a client, and whose forwarded address it believes. */
export function httpSettings() {
  return {
    headersTimeoutMs: {
      env: 'HTTP_HEADERS_TIMEOUT',
      flag: '--http-headers-timeout <duration>',
      description: 'a request whose headers have not all arrived this long after it began is answered 408 and its connection closed',
      default: 10_000,
      defaultLabel: '10s',
      parse: parsers.positiveDurationMs('HTTP_HEADERS_TIMEOUT'),
    } satisfies Setting<number>,
    requestTimeoutMs: {
      env: 'HTTP_REQUEST_TIMEOUT',
      flag: '--http-request-timeout <duration>',
      description: 'a request (headers and body) not received whole this long after it began is answered 408 and its connection closed',
      default: 30_000,
      defaultLabel: '30s',
      parse: parsers.positiveDurationMs('HTTP_REQUEST_TIMEOUT'),
    } satisfies Setting<number>,
    keepAliveTimeoutMs: {
      env: 'HTTP_KEEP_ALIVE_TIMEOUT',
      flag: '--http-keep-alive-timeout <duration>',
      description: 'an idle keep-alive connection is closed after this long without a new request',
      default: 5_000,
      defaultLabel: '5s',
      parse: parsers.positiveDurationMs('HTTP_KEEP_ALIVE_TIMEOUT'),
    } satisfies Setting<number>,
    trustProxy: {
      env: 'TRUST_PROXY',
      flag: '--trust-proxy <list>',
      description:
        'proxies whose X-Forwarded-For names the client: comma-separated addresses, CIDR ranges or loopback, linklocal, uniquelocal; without it the client is the socket peer',
      default: [] as string[],
      defaultLabel: 'nobody',
      parse: parseTrustProxy,
    } satisfies Setting<string[]>,
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
      parse: parsers.positiveDurationMs('TOKEN_TTL'),
    } satisfies Setting<number>,
    ...loginThrottleSettings(),
  };
}

/** Failed-login throttling; the defaults are SPEC's numbers. */
export function loginThrottleSettings() {
  return {
    loginFailuresPerPair: {
      env: 'LOGIN_FAILURES_PER_LOGIN',
      flag: '--login-failures-per-login <n>',
      description: 'failed logins allowed for one login from one client address per window; further attempts are answered 429',
      default: DEFAULT_LOGIN_LIMITS.perPair,
      parse: parsers.positiveInt('LOGIN_FAILURES_PER_LOGIN'),
    } satisfies Setting<number>,
    loginFailuresPerAddress: {
      env: 'LOGIN_FAILURES_PER_ADDRESS',
      flag: '--login-failures-per-address <n>',
      description: 'failed logins allowed from one client address over all logins per window; further attempts are answered 429',
      default: DEFAULT_LOGIN_LIMITS.perAddress,
      parse: parsers.positiveInt('LOGIN_FAILURES_PER_ADDRESS'),
    } satisfies Setting<number>,
    loginFailureWindowMs: {
      env: 'LOGIN_FAILURE_WINDOW',
      flag: '--login-failure-window <duration>',
      description: 'the sliding window failed logins are counted over',
      default: DEFAULT_LOGIN_LIMITS.windowMs,
      defaultLabel: '15m',
      parse: parsers.positiveDurationMs('LOGIN_FAILURE_WINDOW'),
    } satisfies Setting<number>,
  };
}

/** The throttle's limits from a service's settings. */
export function loginLimits(config: { loginFailuresPerPair: number; loginFailuresPerAddress: number; loginFailureWindowMs: number }): LoginLimits {
  return { perPair: config.loginFailuresPerPair, perAddress: config.loginFailuresPerAddress, windowMs: config.loginFailureWindowMs };
}
