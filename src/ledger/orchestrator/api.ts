import type { LoginThrottle } from '../../kernel/auth/login-throttle.js';
import type { TokenService } from '../../kernel/auth/tokens.js';
import { authGuard } from '../../kernel/http/auth.js';
import { registerAuthRoutes } from '../../kernel/http/auth-routes.js';
import type { HttpApp } from '../../kernel/http/server.js';
import { adminGuard, operatorRoutes } from './routes/operator.js';
import type { OrchestratorRouteOptions } from './routes/options.js';
import { transactionRoutes } from './routes/transactions.js';
import { walletRoutes } from './routes/wallets.js';
import type { OrchestratorService } from './service.js';

/**
 * The orchestrator's API, one plugin per resource (routes/*); its shapes, history notes and
 * refusals are in contract.ts. What becomes of an accepted transfer — SUCCESSFUL, or INVALID
 * `not enough funds in the wallet`, … — is decided by the state machine in machine.ts
 * (`next`, `decide`, `localOutcome`), which the coordinator carries out.
 */
export function registerOrchestratorRoutes(
  app: HttpApp,
  service: OrchestratorService,
  tokens: TokenService,
  throttle: LoginThrottle,
  adminToken: string | undefined,
): void {
  registerAuthRoutes(app, { register: '/auth/register', login: '/auth/login' }, service.accounts, tokens, throttle);
  const options: OrchestratorRouteOptions = { service, signedIn: authGuard(tokens), operator: adminGuard(adminToken) };
  void app.register(walletRoutes, options);
  void app.register(transactionRoutes, options);
  void app.register(operatorRoutes, options);
}
