import type { StaticDocumentSpec } from '@fastify/swagger';
import type { HttpApp } from './server.js';
import { innerApp, lazyApp } from './lazy-app.js';

/**
 * Swagger UI at /docs, loaded on the first visit: @fastify/swagger-ui and the @fastify/static it
 * serves its files with are not imported by a process nobody browses. The inner app serves the
 * outer app's own document (complete by then: routes are fixed once the server listens), so the
 * page, /docs/json and /docs/yaml are what they were with the plugin registered at start-up.
 */
export function registerDocs(app: HttpApp): void {
  const docs = lazyApp(async () => {
    const [{ default: fastifySwagger }, { default: fastifySwaggerUi }] = await Promise.all([import('@fastify/swagger'), import('@fastify/swagger-ui')]);
    const inner = innerApp();
    await inner.register(fastifySwagger, { mode: 'static', specification: { document: app.swagger() as StaticDocumentSpec['document'] } });
    await inner.register(fastifySwaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });
    return inner;
  });
  for (const url of ['/docs', '/docs/*']) app.get(url, { schema: { hide: true } }, (request, reply) => docs(request, reply));
}
