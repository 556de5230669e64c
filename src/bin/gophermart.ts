import { runServiceCli } from '../kernel/cli.js';
import { gophermartSettings } from '../gophermart/config.js';
import { startGophermart } from '../gophermart/main.js';

await runServiceCli({ name: 'gophermart', summary: 'Loyalty points service: accounts, orders, balance, withdrawals.' }, gophermartSettings, (config, logger) =>
  startGophermart(config, { logger }),
);
