import { runServiceCli } from '../kernel/cli.js';
import { ConfigError } from '../kernel/config.js';
import { orchestratorSettings, resolveShards } from '../ledger/orchestrator/config.js';
import { startOrchestrator } from '../ledger/orchestrator/main.js';

await runServiceCli(
  { name: 'orchestrator', summary: 'Wallet ledger orchestrator (SPEC §3): users, wallets, transfers across N shards (SHARD_ADDRESS_1..N).' },
  orchestratorSettings,
  async (config, logger) => {
    let resolved: ReturnType<typeof resolveShards>;
    try {
      resolved = resolveShards(config, process.env);
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`orchestrator: ${err.message}\n(see orchestrator --help)\n`);
        process.exit(2);
      }
      throw err;
    }
    return startOrchestrator(resolved, { logger });
  },
);
