import { parsers, type ConfigOf, type Setting } from '../kernel/config.js';
import { commonSettings, tokenSettings } from '../kernel/settings.js';

export const gophermartSettings = {
  ...commonSettings('gophermart', 'localhost:8080'),
  accrualAddress: {
    env: 'ACCRUAL_SYSTEM_ADDRESS',
    flag: '-r, --accrual-address <address>',
    description: 'accrual service address: host:port, :port or URL',
    default: 'http://localhost:8081',
    parse: parsers.serviceAddress('ACCRUAL_SYSTEM_ADDRESS (-r)'),
  } satisfies Setting<string>,
  ...tokenSettings(),
  pollConcurrency: {
    env: 'POLL_CONCURRENCY',
    flag: '--poll-concurrency <n>',
    description: 'accrual poller: requests to the accrual service in flight at once (0 turns the poller off)',
    default: 16,
    parse: parsers.nonNegativeInt('POLL_CONCURRENCY'),
  } satisfies Setting<number>,
  pollIntervalMs: {
    env: 'POLL_INTERVAL',
    flag: '--poll-interval <duration>',
    description: 'accrual poller: how often an idle poller looks for due orders (uploads in this process wake it at once)',
    default: 250,
    defaultLabel: '250ms',
    parse: parsers.positiveDurationMs('POLL_INTERVAL'),
  } satisfies Setting<number>,
  pollBackoffBaseMs: {
    env: 'POLL_BACKOFF_BASE',
    flag: '--poll-backoff-base <duration>',
    description:
      'accrual poller: shortest delay before asking again about an order that is not final (used while the request budget allows); also the spacing of the one-order probes while the accrual service is down',
    default: 1000,
    defaultLabel: '1s',
    parse: parsers.positiveDurationMs('POLL_BACKOFF_BASE'),
  } satisfies Setting<number>,
  pollBackoffMaxMs: {
    env: 'POLL_BACKOFF_MAX',
    flag: '--poll-backoff-max <duration>',
    description: 'accrual poller: longest delay between two questions about one order, however scarce the request budget',
    default: 60_000,
    defaultLabel: '1m',
    parse: parsers.positiveDurationMs('POLL_BACKOFF_MAX'),
  } satisfies Setting<number>,
  pollAssumedLimit: {
    env: 'POLL_ASSUMED_LIMIT',
    flag: '--poll-assumed-limit <n>',
    description:
      'accrual poller: requests per minute the accrual service is assumed to allow until a 429 announces its limit; re-asks are spread over it, and a 429 that names no limit adopts it (0 = assume no limit; such a 429 then adopts 1000)',
    default: 1000,
    parse: parsers.nonNegativeInt('POLL_ASSUMED_LIMIT'),
  } satisfies Setting<number>,
  accrualTimeoutMs: {
    env: 'ACCRUAL_TIMEOUT',
    flag: '--accrual-timeout <duration>',
    description: 'accrual poller: whole-request timeout of one accrual request',
    default: 5000,
    defaultLabel: '5s',
    parse: parsers.positiveDurationMs('ACCRUAL_TIMEOUT'),
  } satisfies Setting<number>,
  accrualRetries: {
    env: 'ACCRUAL_RETRIES',
    flag: '--accrual-retries <n>',
    description: 'accrual poller: quick retries after a 5xx, timeout or connection error before the order waits for a later round',
    default: 2,
    parse: parsers.nonNegativeInt('ACCRUAL_RETRIES'),
  } satisfies Setting<number>,
  pollLeaseMs: {
    env: 'POLL_LEASE',
    flag: '--poll-lease <duration>',
    description:
      'accrual poller: how long a claimed order is reserved for this process; claims of a process that is gone are taken over within a heartbeat (5s), the lease bounds it if that fails',
    default: 30_000,
    defaultLabel: '30s',
    parse: parsers.positiveDurationMs('POLL_LEASE'),
  } satisfies Setting<number>,
  orchestratorAddress: {
    env: 'ORCHESTRATOR_ADDRESS',
    flag: '--orchestrator-address <address>',
    description: 'wallet ledger orchestrator the web app reaches through /ledger/*: host:port, :port or URL',
    default: 'http://localhost:8088',
    parse: parsers.serviceAddress('ORCHESTRATOR_ADDRESS'),
  } satisfies Setting<string>,
  readCacheTtlMs: {
    env: 'READ_CACHE_TTL',
    flag: '--read-cache-ttl <duration>',
    description:
      "balance and orders kept in memory per user between writes (PostgreSQL only; a write here drops its user's copy before it is answered, one in another instance within the notification delay, a few milliseconds): the longest a copy is kept if a notification went missing (0 turns the cache off)",
    default: 1000,
    defaultLabel: '1s',
    parse: parsers.durationMs('READ_CACHE_TTL'),
  } satisfies Setting<number>,
};

export type GophermartConfig = ConfigOf<typeof gophermartSettings>;
