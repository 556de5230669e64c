import { runServiceCli } from '../kernel/cli.js';
import { loyaltySettings } from '../loyalty/config.js';
import { startLoyalty } from '../loyalty/main.js';

await runServiceCli({ name: 'gophermart', summary: 'Loyalty points service: accounts, orders, balance, withdrawals.' }, loyaltySettings, (config, logger) =>
  startLoyalty(config, { logger }),
);
