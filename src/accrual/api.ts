import type { HttpApp } from '../kernel/http/server.js';
import { goodsRoutes } from './routes/goods.js';
import type { OrdersReadOptions } from './routes/options.js';
import { orderRoutes } from './routes/orders.js';
import type { AccrualService } from './service.js';

export type { OrdersReadOptions } from './routes/options.js';

/**
 * The accrual API, one plugin per resource (routes/*); its shapes and refusals are in
 * contract.ts. Fastify loads the plugins before the server listens.
 */
export function registerAccrualRoutes(app: HttpApp, service: AccrualService, read: OrdersReadOptions): void {
  void app.register(goodsRoutes, { service, read });
  void app.register(orderRoutes, { service, read });
}
