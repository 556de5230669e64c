import type { FixedWindowLimiter } from '../rate-limit.js';
import type { AccrualService } from '../service.js';

export interface OrdersReadOptions {
  limiter: FixedWindowLimiter;
  /** Share of order reads answered 500 (fault knob for testing clients). */
  errorShare: number;
  random?: () => number;
}

/** What every accrual route plugin is given. */
export interface AccrualRouteOptions {
  service: AccrualService;
  read: OrdersReadOptions;
}
