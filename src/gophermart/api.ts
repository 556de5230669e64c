import type { LoginThrottle } from '../kernel/auth/login-throttle.js';
import type { TokenService } from '../kernel/auth/tokens.js';
import { authGuard } from '../kernel/http/auth.js';
import type { HttpApp } from '../kernel/http/server.js';
import { balanceRoutes } from './routes/balance.js';
import type { GophermartRouteOptions } from './routes/options.js';
import { orderRoutes } from './routes/orders.js';
import { sessionRoutes } from './routes/session.js';
import { withdrawalRoutes } from './routes/withdrawals.js';
import type { GophermartService } from './service.js';

export { orderNumberFromBody } from './routes/orders.js';

/**
 * The loyalty API, one plugin per resource (routes/*); its shapes and refusals are in
 * contract.ts. Fastify loads the plugins before the server listens.
 */
export function registerGophermartRoutes(app: HttpApp, service: GophermartService, tokens: TokenService, throttle: LoginThrottle): void {
  const options: GophermartRouteOptions = { service, tokens, throttle, signedIn: authGuard(tokens) };
  void app.register(sessionRoutes, options);
  void app.register(orderRoutes, options);
  void app.register(balanceRoutes, options);
  void app.register(withdrawalRoutes, options);
}
