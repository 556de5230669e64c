import type { onRequestHookHandler } from 'fastify';
import type { LoginThrottle } from '../../kernel/auth/login-throttle.js';
import type { TokenService } from '../../kernel/auth/tokens.js';
import type { GophermartService } from '../service.js';

/** What every loyalty route plugin is given. */
export interface GophermartRouteOptions {
  service: GophermartService;
  tokens: TokenService;
  /** Failed-login counters of the gophermart schema. */
  throttle: LoginThrottle;
  /** The auth guard: 401 unless signed in; the route then reads `request.userId`. */
  signedIn: onRequestHookHandler;
}
