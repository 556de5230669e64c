import { runServiceCli } from '../kernel/cli.js';
import { stackSettings, startStack } from '../stack.js';
import { stackBanner } from '../stack-banner.js';

await runServiceCli(
  { name: 'stack', summary: 'The whole platform in one process on one (embedded by default) database: loyalty, accrual, ledger orchestrator and shards.' },
  stackSettings,
  async (config) => {
    const stack = await startStack(config);
    process.stderr.write(`${stackBanner({ ...stack, dataDir: config.dataDir })}\n`);
    return stack;
  },
);
