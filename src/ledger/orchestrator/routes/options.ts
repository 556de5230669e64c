import type { onRequestHookHandler } from 'fastify';
import type { OrchestratorService } from '../service.js';

/** What every orchestrator route plugin is given. */
export interface OrchestratorRouteOptions {
  service: OrchestratorService;
  /** The auth guard: 401 unless signed in; the route then reads `request.userId`. */
  signedIn: onRequestHookHandler;
  /** The operator guard (ADMIN_TOKEN) of the deposit route. */
  operator: onRequestHookHandler;
}
