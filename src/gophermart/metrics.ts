import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RateGate } from './rate-gate.js';
import type { GophermartStore } from './store.js';

/**
 * Every series the accrual poller reports, declared in one place (the style of every service's
 * metrics.ts: one factory per component, handed the registry, returning typed instruments).
 * Gauges that mirror state read it on scrape through the callbacks given here.
 */
export function createPollerMetrics(registry: Registry, store: GophermartStore, gate: () => RateGate, inFlight: () => number, accrualDown: () => boolean) {
  const orders = new Gauge({
    name: 'gophermart_orders',
    help: 'Orders by status, read from the database on scrape (NEW + PROCESSING is the poller queue)',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const counts = await store.orderCounts().catch(() => undefined);
      if (!counts) return;
      this.reset();
      for (const s of ['NEW', 'PROCESSING', 'INVALID', 'PROCESSED']) this.set({ status: s }, counts.find((c) => c.status === s)?.total ?? 0);
      dueGauge.set(counts.reduce((sum, c) => sum + c.due, 0));
    },
  });
  // Registered after gophermart_orders, whose collect() sets it, so a scrape reads fresh values.
  const dueGauge = new Gauge({
    name: 'gophermart_orders_due',
    help: 'Orders due for a question to the accrual service now (set when gophermart_orders is collected)',
    registers: [registry],
  });
  return {
    requests: new Counter({
      name: 'gophermart_accrual_requests_total',
      help: 'Requests to the accrual service by outcome (processed, invalid, in_progress, unknown, rate_limited, server_error, timeout, connection_error, malformed)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'gophermart_accrual_request_duration_seconds',
      help: 'Latency of requests to the accrual service',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    credits: new Counter({ name: 'gophermart_accrual_credits_total', help: 'Orders credited on reaching PROCESSED', registers: [registry] }),
    credited: new Counter({ name: 'gophermart_accrual_credited_points_total', help: 'Points credited on reaching PROCESSED', registers: [registry] }),
    orders,
    due: dueGauge,
    paused: new Gauge({
      name: 'gophermart_accrual_pause_seconds',
      help: 'Seconds left of the pause a 429 imposed on every accrual request (0 = open)',
      registers: [registry],
      collect() {
        this.set(gate().pausedForMs() / 1000);
      },
    }),
    rate: new Gauge({
      name: 'gophermart_accrual_rate_limit_per_second',
      help: 'Request rate learnt or adopted from the 429s seen (-1 = no limit known)',
      registers: [registry],
      collect() {
        const r = gate().limitPerSecond;
        this.set(Number.isFinite(r) ? r : -1);
      },
    }),
    share: new Gauge({
      name: 'gophermart_accrual_rate_share',
      help: 'This process’s share of the learnt rate limit: 1 / the pollers live on the database',
      registers: [registry],
      collect() {
        this.set(gate().sharePerProcess);
      },
    }),
    down: new Gauge({
      name: 'gophermart_accrual_down',
      help: 'The accrual service is taken for down (1): one order at a time probes it until it answers',
      registers: [registry],
      collect() {
        this.set(accrualDown() ? 1 : 0);
      },
    }),
    inFlight: new Gauge({
      name: 'gophermart_accrual_in_flight',
      help: 'Orders being asked about right now by this process',
      registers: [registry],
      collect() {
        this.set(inFlight());
      },
    }),
  };
}

export type PollerMetrics = ReturnType<typeof createPollerMetrics>;
