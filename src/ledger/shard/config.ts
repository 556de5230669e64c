import { ConfigError, type ConfigOf, type Setting } from '../../kernel/config.js';
import { commonSettings } from '../../kernel/settings.js';
import { shardTokenSetting } from '../protocol.js';

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
