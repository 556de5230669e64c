import { parsers, type ConfigOf, type Setting } from '../kernel/config.js';
import { commonSettings } from '../kernel/settings.js';

export const loyaltySettings = {
  ...commonSettings('gophermart', 'localhost:8080'),
  accrualAddress: {
    env: 'ACCRUAL_SYSTEM_ADDRESS',
    flag: '-r, --accrual-address <address>',
    description: 'accrual service address: host:port, :port or URL',
    default: 'http://localhost:8081',
    parse: parsers.string,
  } satisfies Setting<string>,
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
  orchestratorAddress: {
    env: 'ORCHESTRATOR_ADDRESS',
    flag: '--orchestrator-address <address>',
    description: 'wallet ledger orchestrator the web app reaches through /ledger/*: host:port, :port or URL',
    default: 'http://localhost:8088',
    parse: parsers.string,
  } satisfies Setting<string>,
};

export type LoyaltyConfig = ConfigOf<typeof loyaltySettings>;
