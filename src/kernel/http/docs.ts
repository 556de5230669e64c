import type { StaticDocumentSpec } from '@fastify/swagger';
import { Type } from '@sinclair/typebox';
import { errorResponse } from './outcome.js';
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
  app.get(
    '/docs',
    {
      schema: {
        tags: ['operations'],
        summary: 'Swagger UI for this document',
        produces: ['text/html'],
        response: { 200: Type.String({ description: 'the Swagger UI page' }) },
      },
    },
    async (request, reply) => docs(request, reply),
  );
  app.get(
    '/docs/*',
    {
      schema: {
        tags: ['operations'],
        summary: 'The Swagger UI’s files; this document again as /docs/json and /docs/yaml',
        response: {
          200: { description: 'the file, or the document', content: { '*/*': { schema: {} } } },
          206: { description: 'the part of a file a Range header asked for', content: { '*/*': { schema: {} } } },
          302: { description: '/docs/static/index.html: the page is /docs/' },
          304: { description: 'not modified since the copy the client holds (If-None-Match / If-Modified-Since)' },
          416: { description: 'a Range header that lies outside the file' },
          404: errorResponse('no such file'),
        },
      },
    },
    async (request, reply) => docs(request, reply),
  );
}
