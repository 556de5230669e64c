import type { onRequestHookHandler } from 'fastify';
import type { LedgerService } from '../service.js';

/** What every orchestrator route plugin is given. */
export interface LedgerRouteOptions {
  service: LedgerService;
  /** The auth guard: 401 unless signed in; the route then reads `request.userId`. */
  signedIn: onRequestHookHandler;
  /** The operator guard (ADMIN_TOKEN) of the deposit route. */
  operator: onRequestHookHandler;
}
