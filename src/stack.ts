import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAccrual } from './accrual/main.js';
import { accrualSettings } from './accrual/config.js';
import { ConfigError, bearerToken, configWith, databaseUriSetting, parsers, secretSetting, type ConfigOf, type Setting } from './kernel/config.js';
import type { Database } from './kernel/db/database.js';
import { IN_MEMORY, openDatabase } from './kernel/db/open.js';
import type { Running } from './kernel/lifecycle.js';
import { loggingSettings } from './kernel/settings.js';
import { createLogger, resolveLogFormat, type LogFormat, type Logger } from './kernel/logger.js';
import { orchestratorSettings } from './ledger/orchestrator/config.js';
import { startOrchestrator } from './ledger/orchestrator/main.js';
import { shardSettings } from './ledger/shard/config.js';
import { startShard } from './ledger/shard/main.js';
import { gophermartSettings } from './gophermart/config.js';
import { startGophermart } from './gophermart/main.js';
import { keptSecret } from './stack-secrets.js';

const port = (name: string, fallback: number): Setting<number> => ({
  env: name,
  flag: `--${name.toLowerCase().replace(/_/g, '-')} <port>`,
  description: `port of the ${name.split('_')[0]!.toLowerCase()} service`,
  default: fallback,
  parse: parsers.port(name),
});

export const stackSettings = {
  host: {
    env: 'HOST',
    flag: '--host <host>',
    description: 'interface every service listens on',
    default: 'localhost',
    parse: parsers.string,
  } satisfies Setting<string>,
  gophermartPort: port('GOPHERMART_PORT', 8080),
  accrualPort: port('ACCRUAL_PORT', 8081),
  orchestratorPort: port('ORCHESTRATOR_PORT', 8088),
  shardPorts: {
    env: 'SHARD_PORTS',
    flag: '--shard-ports <list>',
    description: 'ports of the ledger shards, comma-separated; their count is the number of shards',
    default: [8090, 8091],
    defaultLabel: '8090,8091',
    parse: (raw: string): number[] => {
      const ports = raw.split(',').map((p) => parsers.nonNegativeInt('SHARD_PORTS')(p.trim()));
      if (ports.length === 0) throw new ConfigError('SHARD_PORTS needs at least one port');
      return ports;
    },
  } satisfies Setting<number[]>,
  databaseUri: databaseUriSetting('one PostgreSQL database for every service (each in its own schema); without it the embedded database', 'embedded'),
  dataDir: {
    env: 'DATA_DIR',
    flag: '--data-dir <dir>',
    description: 'data directory of the shared embedded database',
    default: 'data/platform',
    parse: parsers.string,
  } satisfies Setting<string>,
  adminToken: bearerToken(
    secretSetting(
      'ADMIN_TOKEN',
      '--admin-token <token>',
      'operator token of the ledger (POST /api/admin/deposit); without it one is generated and written to <data dir>/admin-token',
      'generated',
    ),
  ),
  shardToken: bearerToken(
    secretSetting(
      'SHARD_TOKEN',
      '--shard-token <token>',
      'secret the orchestrator presents to the shards; without it one is generated and written to <data dir>/shard-token',
      'generated',
    ),
  ),
  processingDelayMs: accrualSettings.processingDelayMs,
  // unset (''): info for JSON logs, warn for a person at a terminal, who has the banner
  ...loggingSettings('', 'info; warn when the logs are pretty'),
};

/** The level the stack's services log at: quiet on a terminal unless LOG_LEVEL says otherwise. */
export function stackLogLevel(config: Pick<StackConfig, 'logLevel'>, format: LogFormat): string {
  return config.logLevel || (format === 'pretty' ? 'warn' : 'info');
}

export type StackConfig = ConfigOf<typeof stackSettings>;

export interface RunningStack extends Running {
  /** Base URL of each service: gophermart, accrual, orchestrator, shard_0 … */
  urls: Record<string, string>;
  database: 'embedded' | 'postgres';
  /** Where the generated secrets are kept; absent for one given in the settings. */
  tokenFiles: { admin?: string; shard?: string };
  logLevel: string;
  logFormat: LogFormat;
}

/**
 * Every service of the platform in one process on one database: the accrual service, the
 * loyalty service pointed at it, N ledger shards (schemas shard_0 … shard_N-1) and the
 * orchestrator. Each keeps its own HTTP server, logger and metrics.
 */
export async function startStack(config: StackConfig): Promise<RunningStack> {
  const format = resolveLogFormat(config.logFormat);
  const level = stackLogLevel(config, format);
  const loggers = new Map<string, Logger>();
  const logger = (name: string): Logger => {
    let l = loggers.get(name);
    if (!l) {
      l = createLogger(name, level, format);
      loggers.set(name, l);
    }
    return l;
  };
  const db: Database = await openDatabase({ url: config.databaseUri, embeddedDir: config.dataDir, applicationName: 'gophermart-stack' });
  const running: Running[] = [];
  // every service logs alike; each gets typed settings (its defaults, these replaced)
  const common = { logLevel: level, logFormat: format };
  const at = (p: number) => `${config.host}:${p}`;
  try {
    // an in-memory run has no data directory: its secrets go to a private directory of their own
    const secretsDir = config.dataDir === IN_MEMORY ? mkdtempSync(join(tmpdir(), 'gophermart-stack-')) : config.dataDir;
    const admin = keptSecret(config.adminToken, secretsDir, 'admin-token');
    const shard = keptSecret(config.shardToken, secretsDir, 'shard-token');

    const accrual = await startAccrual(
      configWith(accrualSettings, { ...common, address: at(config.accrualPort), processingDelayMs: config.processingDelayMs }),
      { logger: logger('accrual'), db },
    );
    running.push(accrual);

    const shardUrls: string[] = [];
    for (const [i, p] of config.shardPorts.entries()) {
      const started = await startShard(configWith(shardSettings, { ...common, address: at(p), shardToken: shard.value, schema: `shard_${i}` }), {
        logger: logger(`shard-${i}`),
        db,
      });
      running.push(started);
      shardUrls.push(started.url);
    }

    const orchestrator = await startOrchestrator(
      configWith(orchestratorSettings, {
        ...common,
        address: at(config.orchestratorPort),
        shards: shardUrls,
        shardToken: shard.value,
        adminToken: admin.value,
        // the member web app reaches the orchestrator through the loyalty service on this host,
        // which forwards the browser's address for the login throttle
        trustProxy: ['loopback'],
      }),
      { logger: logger('orchestrator'), db },
    );
    running.push(orchestrator);

    const gophermart = await startGophermart(
      configWith(gophermartSettings, { ...common, address: at(config.gophermartPort), accrualAddress: accrual.url, orchestratorAddress: orchestrator.url }),
      { logger: logger('gophermart'), db },
    );
    running.push(gophermart);

    const urls = {
      gophermart: gophermart.url,
      accrual: accrual.url,
      orchestrator: orchestrator.url,
      ...Object.fromEntries(shardUrls.map((u, i) => [`shard_${i}`, u])),
    };
    const tokenFiles = { ...(admin.file ? { admin: admin.file } : {}), ...(shard.file ? { shard: shard.file } : {}) };
    logger('stack').info({ urls, database: db.kind, tokenFiles }, 'platform running');
    return {
      urls,
      database: db.kind,
      tokenFiles,
      logLevel: level,
      logFormat: format,
      async stop() {
        for (const service of running.reverse()) await service.stop().catch((err: unknown) => logger('stack').error({ err }, 'stop failed'));
        await db.close();
      },
    };
  } catch (err) {
    for (const service of running.reverse()) await service.stop().catch(() => undefined);
    await db.close().catch(() => undefined);
    throw err;
  }
}
