import { ConfigError, parsers, type ConfigOf, type Setting } from '../kernel/config.js';
import { commonSettings } from '../kernel/settings.js';

export const accrualSettings = {
  ...commonSettings('accrual', 'localhost:8081'),
  rateLimit: {
    env: 'RATE_LIMIT',
    flag: '-l, --rate-limit <n>',
    description: 'GET /api/orders/* requests per minute, all clients together (0 = no limit)',
    default: 1000,
    parse: parsers.nonNegativeInt('RATE_LIMIT'),
  } satisfies Setting<number>,
  processingDelayMs: {
    env: 'PROCESSING_DELAY',
    flag: '--processing-delay <ms>',
    description: 'time from registration to a final status (ms, or with unit: 2s); half REGISTERED, half PROCESSING; 0 = at once',
    default: 1000,
    parse: parsers.durationMs('PROCESSING_DELAY'),
  } satisfies Setting<number>,
  invalidShare: {
    env: 'INVALID_SHARE',
    flag: '--invalid-share <share>',
    description: 'share (0–1) of orders that come out INVALID whatever their goods, for testing clients',
    default: 0,
    parse: parsers.share('INVALID_SHARE'),
  } satisfies Setting<number>,
  errorShare: {
    env: 'ERROR_SHARE',
    flag: '--error-share <share>',
    description: 'share (0–1) of GET /api/orders/* requests answered 500, for testing clients',
    default: 0,
    parse: parsers.share('ERROR_SHARE'),
  } satisfies Setting<number>,
  processorConcurrency: {
    env: 'PROCESSOR_CONCURRENCY',
    flag: '--processor-concurrency <n>',
    description: 'background workers moving orders through their statuses, each claiming up to 100 orders at a time',
    default: 2,
    parse: (raw: string): number => {
      const n = parsers.positiveInt('PROCESSOR_CONCURRENCY')(raw);
      if (n > 64) throw new ConfigError(`PROCESSOR_CONCURRENCY must be at most 64, got ${n}`);
      return n;
    },
  } satisfies Setting<number>,
};

export type AccrualConfig = ConfigOf<typeof accrualSettings>;
