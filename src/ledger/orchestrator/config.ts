import { ConfigError, bearerToken, numberedListSetting, parsers, secretSetting, type ConfigOf, type Setting } from '../../kernel/config.js';
import { parseServiceUrl } from '../../kernel/address.js';
import { commonSettings, tokenSettings } from '../../kernel/settings.js';
import { shardTokenSetting } from '../protocol.js';

function shardAddress(address: string): string {
  let url: string;
  try {
    url = parseServiceUrl(address);
  } catch {
    throw new ConfigError(`shard address "${address}" is not host:port, :port or an http(s) URL`);
  }
  // the shard client speaks to an origin: a path would be dropped, or refused after start-up
  if (new URL(url).pathname !== '/') throw new ConfigError(`shard address "${address}" must not have a path (host:port or scheme://host:port)`);
  return address;
}

export const orchestratorSettings = {
  ...commonSettings('orchestrator', 'localhost:8088'),
  // SPEC: SHARD_ADDRESS_1 is shard 0, and N is how many are set; a gap would change id % N
  shards: numberedListSetting({
    numbered: 'SHARD_ADDRESS',
    env: 'SHARD_ADDRESSES',
    flag: '--shards <list>',
    description:
      'shard addresses, shard 0 first: SHARD_ADDRESS_1, SHARD_ADDRESS_2, … (numbered 1..N without gaps; a gap stops the start), or one comma-separated list (an empty entry stops the start too)',
    parseItem: shardAddress,
  }),
  shardToken: shardTokenSetting,
  adminToken: bearerToken(
    secretSetting(
      'ADMIN_TOKEN',
      '--admin-token <token>',
      'operator token for POST /api/admin/deposit; unset disables deposits (403)',
      'none (deposits disabled)',
    ),
  ),
  ...tokenSettings(),
  confirmationLimitMs: {
    env: 'CONFIRMATION_LIMIT',
    flag: '--confirmation-limit <duration>',
    description: 'how long a shard may take to answer a reserve or local transfer before the transaction is aborted (FAILED)',
    default: 5_000,
    defaultLabel: '5s',
    parse: parsers.positiveDurationMs('CONFIRMATION_LIMIT'),
  } satisfies Setting<number>,
  recoveryIntervalMs: {
    env: 'RECOVERY_INTERVAL',
    flag: '--recovery-interval <duration>',
    description: 'how often unfinished transactions and wallet creations are looked for and resolved',
    default: 5_000,
    defaultLabel: '5s',
    parse: parsers.positiveDurationMs('RECOVERY_INTERVAL'),
  } satisfies Setting<number>,
  leaseMs: {
    env: 'LEASE_DURATION',
    flag: '--lease-duration <duration>',
    description:
      'how long an unfinished transaction stays leased to the instance driving it without a renewal (renewed every third of it); after that another instance on the same ledger database takes it over',
    default: 10_000,
    defaultLabel: '10s',
    parse: parsers.positiveDurationMs('LEASE_DURATION'),
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
