import { runServiceCli } from '../kernel/cli.js';
import { shardSettings } from '../ledger/shard/config.js';
import { startShard } from '../ledger/shard/main.js';

await runServiceCli(
  { name: 'shard', summary: 'Wallet ledger shard: balances, holds and local transfers of the wallets with id % N = its index.' },
  shardSettings,
  (config, logger) => startShard(config, { logger }),
);
