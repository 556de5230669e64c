import { runServiceCli } from '../kernel/cli.js';
import { stackSettings, startStack } from '../stack.js';

await runServiceCli(
  { name: 'stack', summary: 'The whole platform in one process on one (embedded by default) database: loyalty, accrual, ledger orchestrator and shards.' },
  stackSettings,
  (config) => startStack(config),
);
