import type { onRequestHookHandler, RouteOptions } from 'fastify';

/**
 * Every way a route of this platform can be authorised, as OpenAPI security schemes. A service's
 * document lists only the schemes its routes use.
 */
export const SECURITY_SCHEMES = {
  bearer: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'The user token that register and login return in `Authorization: Bearer <token>`.',
  },
  cookie: { type: 'apiKey', in: 'cookie', name: 'token', description: 'The same user token, as the HttpOnly cookie register and login set.' },
  shardToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'The shared secret `SHARD_TOKEN` (set on the orchestrator and on every shard), as `Authorization: Bearer <SHARD_TOKEN>`.',
  },
  adminToken: { type: 'http', scheme: 'bearer', description: 'The operator token `ADMIN_TOKEN`, as `Authorization: Bearer <ADMIN_TOKEN>`.' },
} as const;

export type SecuritySchemeName = keyof typeof SECURITY_SCHEMES;
/** OpenAPI security requirements: any one entry suffices. */
export type SecurityRequirements = Array<Partial<Record<SecuritySchemeName, string[]>>>;

/** What each kind of credential requires in the document. */
export const SECURITY: Record<'user' | 'shardToken' | 'adminToken', SecurityRequirements> = {
  /** The user token, from the header or (without a header) the cookie. */
  user: [{ bearer: [] }, { cookie: [] }],
  shardToken: [{ shardToken: [] }],
  adminToken: [{ adminToken: [] }],
};

const requirementsOf = new WeakMap<object, SecurityRequirements>();

/**
 * Marks an onRequest guard with the credential it checks. The kernel documents every route by
 * the guards it really runs, so a route's OpenAPI `security` cannot drift from its code.
 */
export function securedBy<H extends onRequestHookHandler>(requirements: SecurityRequirements, guard: H): H {
  requirementsOf.set(guard, requirements);
  return guard;
}

/** The security of a route as its guards declare it; `[]` (none) for a route without a marked guard. */
export function routeSecurity(route: Pick<RouteOptions, 'onRequest'>): SecurityRequirements {
  const hooks = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
  for (const hook of hooks) {
    const found = requirementsOf.get(hook);
    if (found) return found;
  }
  return [];
}

interface DocumentWithSecurity {
  paths?: Record<string, Record<string, { security?: SecurityRequirements } | unknown> | undefined>;
  components?: { securitySchemes?: Record<string, unknown> };
}

/** The document with only the security schemes some operation requires (each service uses a few of them). */
export function withUsedSecuritySchemes<D extends DocumentWithSecurity>(doc: D): D {
  const used = new Set<string>();
  for (const operations of Object.values(doc.paths ?? {})) {
    for (const operation of Object.values(operations ?? {})) {
      for (const requirement of (operation as { security?: SecurityRequirements }).security ?? []) for (const name of Object.keys(requirement)) used.add(name);
    }
  }
  const schemes = Object.fromEntries(Object.entries(doc.components?.securitySchemes ?? {}).filter(([name]) => used.has(name)));
  const components = { ...doc.components };
  if (Object.keys(schemes).length > 0) components.securitySchemes = schemes;
  else delete components.securitySchemes;
  return { ...doc, components };
}
