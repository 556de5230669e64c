import { Counter, type Registry } from 'prom-client';

export interface AccrualMetrics {
  /** Orders that reached a final status, by status. */
  finished: Counter<'status'>;
}

/** Every series the accrual service adds to the kernel's HTTP and database metrics, declared in one place. */
export function createAccrualMetrics(registry: Registry): AccrualMetrics {
  return {
    finished: new Counter({
      name: 'accrual_orders_finished_total',
      help: 'Orders that reached a final status, by status',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
  };
}
