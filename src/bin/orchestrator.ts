import { runServiceCli } from '../kernel/cli.js';
import { orchestratorSettings, resolveShards } from '../ledger/orchestrator/config.js';
import { startOrchestrator } from '../ledger/orchestrator/main.js';

await runServiceCli(
  { name: 'orchestrator', summary: 'Wallet ledger orchestrator: users, wallets, transfers across N shards (SHARD_ADDRESS_1..N).' },
  orchestratorSettings,
  // a bad SHARD_ADDRESS_n is a ConfigError: refused in one line with exit 2 like every setting
  (config, logger) => startOrchestrator(resolveShards(config, process.env), { logger }),
);
