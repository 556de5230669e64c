import { runServiceCli } from '../kernel/cli.js';
import { orchestratorSettings } from '../ledger/orchestrator/config.js';
import { startOrchestrator } from '../ledger/orchestrator/main.js';

await runServiceCli(
  { name: 'orchestrator', summary: 'Wallet ledger orchestrator: users, wallets, transfers across N shards (SHARD_ADDRESS_1..N).' },
  orchestratorSettings,
  (config, logger) => startOrchestrator(config, { logger }),
);
