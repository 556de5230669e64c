import { ConfigError, parsers, secretSetting, type ConfigOf, type Setting } from '../../kernel/config.js';
import { parseServiceUrl } from '../../kernel/address.js';
import { commonSettings, tokenSettings } from '../../kernel/settings.js';
import { shardTokenSetting } from '../protocol.js';

function shardList(raw: string): string[] {
  const list = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const address of list) {
    try {
      parseServiceUrl(address);
    } catch {
      throw new ConfigError(`shard address "${address}" is not host:port, :port or a URL`);
    }
  }
  return list;
}

export const orchestratorSettings = {
  ...commonSettings('orchestrator', 'localhost:8088'),
  shards: {
    env: 'SHARD_ADDRESSES',
    flag: '--shards <list>',
    description: 'comma-separated shard addresses, shard 0 first; SHARD_ADDRESS_1..N in the environment win over this',
    default: [] as string[],
    defaultLabel: 'none (required)',
    parse: shardList,
  } satisfies Setting<string[]>,
  shardToken: shardTokenSetting,
  adminToken: secretSetting(
    'ADMIN_TOKEN',
    '--admin-token <token>',
    'operator token for POST /api/admin/deposit; unset disables deposits (403)',
    'none (deposits disabled)',
  ),
  ...tokenSettings(),
  confirmationLimitMs: {
    env: 'CONFIRMATION_LIMIT',
    flag: '--confirmation-limit <duration>',
    description: 'how long a shard may take to answer a reserve or local transfer before the transaction is aborted (FAILED)',
    default: 5_000,
    defaultLabel: '5s',
    parse: parsers.durationMs('CONFIRMATION_LIMIT'),
  } satisfies Setting<number>,
  recoveryIntervalMs: {
    env: 'RECOVERY_INTERVAL',
    flag: '--recovery-interval <duration>',
    description: 'how often unfinished transactions and wallet creations are looked for and resolved',
    default: 5_000,
    defaultLabel: '5s',
    parse: parsers.durationMs('RECOVERY_INTERVAL'),
  } satisfies Setting<number>,
  leaseMs: {
    env: 'LEASE_DURATION',
    flag: '--lease-duration <duration>',
    description:
      'how long an unfinished transaction stays leased to the instance driving it without a renewal (renewed every third of it); after that another instance on the same ledger database takes it over',
    default: 10_000,
    defaultLabel: '10s',
    parse: parsers.durationMs('LEASE_DURATION'),
  } satisfies Setting<number>,
  coordinatorConcurrency: {
    env: 'COORDINATOR_CONCURRENCY',
    flag: '--coordinator-concurrency <n>',
    description: 'transactions driven through the shards at once',
    default: 512,
    parse: parsers.positiveInt('COORDINATOR_CONCURRENCY'),
  } satisfies Setting<number>,
};

export type OrchestratorConfig = ConfigOf<typeof orchestratorSettings>;

/**
 * SHARD_ADDRESS_1, SHARD_ADDRESS_2, … — all that are set, in order (SPEC); a gap in the
 * numbering is a configuration error. When any is set they replace the `--shards` list: env wins.
 */
export function shardAddressesFromEnv(env: Readonly<Record<string, string | undefined>>): string[] | undefined {
  const numbered = Object.keys(env)
    .map((key) => /^SHARD_ADDRESS_([1-9]\d*)$/.exec(key))
    .filter((m): m is RegExpExecArray => m !== null && (env[m[0]] ?? '').trim() !== '')
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  // a gap would silently change N, and with it id % N for every wallet: refuse it
  numbered.forEach((n, i) => {
    if (n !== i + 1) throw new ConfigError(`SHARD_ADDRESS_${i + 1} is missing while SHARD_ADDRESS_${n} is set: shards are numbered 1..N without gaps`);
  });
  const list = numbered.flatMap((n) => shardList(env[`SHARD_ADDRESS_${n}`] ?? ''));
  return list.length > 0 ? list : undefined;
}

/** The final shard list: SHARD_ADDRESS_i from the environment, else the flag/file list; at least one. */
export function resolveShards(config: OrchestratorConfig, env: Readonly<Record<string, string | undefined>>): OrchestratorConfig {
  const shards = shardAddressesFromEnv(env) ?? config.shards;
  if (shards.length === 0) throw new ConfigError('no shards configured: set SHARD_ADDRESS_1..N or --shards host:port,host:port');
  return { ...config, shards };
}
