import { runServiceCli } from '../kernel/cli.js';
import { accrualSettings } from '../accrual/config.js';
import { startAccrual } from '../accrual/main.js';

await runServiceCli({ name: 'accrual', summary: 'Accrual service: reward rules, registered orders, computed points.' }, accrualSettings, (config, logger) =>
  startAccrual(config, { logger }),
);
