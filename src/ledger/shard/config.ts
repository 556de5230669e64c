import { ConfigError, parsers, type ConfigOf, type Setting } from '../../kernel/config.js';
import { commonSettings } from '../../kernel/settings.js';

/** Used when SHARD_TOKEN is unset, so the zero-set-up run works; start-up logs a warning. */
export const DEV_SHARD_TOKEN = 'gophermart-development-shard-token';

export const shardTokenSetting = {
  env: 'SHARD_TOKEN',
  flag: '--shard-token <token>',
  description: 'shared secret the orchestrator presents as Bearer token; set the same value on both',
  default: undefined as string | undefined,
  defaultLabel: 'a built-in development token (warned about at start-up)',
  parse: parsers.optionalString,
  secret: true,
} satisfies Setting<string | undefined>;

export const shardSettings = {
  ...commonSettings('shard', 'localhost:8090'),
  shardToken: shardTokenSetting,
  schema: {
    env: 'SHARD_SCHEMA',
    flag: '--schema <name>',
    description: 'PostgreSQL schema of this shard; distinct names let several shards share one database',
    default: 'shard',
    parse: (raw: string): string => {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(raw)) throw new ConfigError(`SHARD_SCHEMA must be a lower-case SQL identifier, got "${raw}"`);
      return raw;
    },
  } satisfies Setting<string>,
};

export type ShardConfig = ConfigOf<typeof shardSettings>;
