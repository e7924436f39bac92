import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { DataSource } from 'typeorm';
import { registerDashboardAssets } from './dashboard-assets.routes';
import type { Metrics } from './metrics';

const ASSETS: Record<string, { file: string; type: string; id: string }> = {
  '/': { file: 'dashboard.html', type: 'text/html; charset=utf-8', id: 'getDashboard' },
  '/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8', id: 'getDashboardScript' },
  '/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8', id: 'getDashboardStyles' },
};

const DASHBOARD_CSP =
  "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'";

/** The repository's `public/` folder, from src/ or from the compiled dist/src/ alike. */
function publicDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'public', 'dashboard.html'))) return join(dir, 'public');
    dir = dirname(dir);
  }
  throw new Error('public/dashboard.html not found');
}

const status = (value: string) => ({ type: 'string', const: value }) as const;

/** Health, readiness, Prometheus metrics, the OpenAPI document and the live dashboard. */
export function registerOperations(
  app: FastifyInstance,
  deps: {
    db: DataSource;
    metrics: Metrics;
    /** true once a stop has begun: `/readyz` answers 503 so load balancers route elsewhere */
    draining?: () => boolean;
  },
): void {
  const tags = ['Operations'];
  app.get(
    '/healthz',
    {
      schema: {
        operationId: 'getHealth',
        summary: 'The process is up',
        tags,
        response: {
          200: { description: 'Up', type: 'object', required: ['status'], properties: { status: status('ok') } },
        },
      },
    },
    () => Promise.resolve({ status: 'ok' }),
  );

  const readiness = (description: string, states: string[], databases: string[]) => ({
    description,
    type: 'object',
    required: ['status', 'database'],
    properties: { status: { type: 'string', enum: states }, database: { type: 'string', enum: databases } },
  });
  app.get(
    '/readyz',
    {
      schema: {
        operationId: 'getReadiness',
        summary: 'The database answers within a second (for load balancers)',
        tags,
        response: {
          200: readiness('Ready', ['ready'], ['up']),
          503: readiness(
            'Not ready: the database does not answer (`unavailable`), or the instance is stopping (`draining`)',
            ['unavailable', 'draining'],
            ['up', 'down'],
          ),
        },
      },
    },
    async (_request, reply) => {
      let timer: NodeJS.Timeout | undefined;
      let database: 'up' | 'down' = 'up';
      try {
        await Promise.race([
          deps.db.query('SELECT 1'),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error('timeout')), 1000);
          }),
        ]);
      } catch {
        database = 'down';
      } finally {
        clearTimeout(timer);
      }
      // Draining is said first: the load balancer must stop sending here whatever the database does.
      if (deps.draining?.()) return reply.code(503).send({ status: 'draining', database });
      if (database === 'down') return reply.code(503).send({ status: 'unavailable', database });
      return { status: 'ready', database };
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        operationId: 'getMetrics',
        summary: 'Prometheus metrics (keep this path internal)',
        tags,
        response: {
          200: {
            description: 'Prometheus text format',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
    async (_request, reply) => {
      const { contentType, text } = await deps.metrics.render();
      return reply.type(contentType).send(text);
    },
  );

  app.get(
    '/openapi.json',
    {
      schema: {
        operationId: 'getOpenApiDocument',
        summary: 'This document',
        tags,
        response: {
          200: {
            description: 'OpenAPI 3.1, generated from the routes',
            content: { 'application/json': { schema: { type: 'object', additionalProperties: true } } },
          },
        },
      },
    },
    async (_request, reply) =>
      reply
        .type('application/json; charset=utf-8')
        .header('cache-control', 'public, max-age=300')
        .send(JSON.stringify(app.swagger())),
  );

  const dir = publicDir();
  registerDashboardAssets(app, { publicDir: dir, csp: DASHBOARD_CSP });
  for (const [path, asset] of Object.entries(ASSETS)) {
    const body = readFileSync(join(dir, asset.file));
    const mediaType = asset.type.split(';')[0]!;
    app.get(
      path,
      {
        schema: {
          operationId: asset.id,
          summary: `The live dashboard: ${asset.file}`,
          tags,
          response: { 200: { description: asset.file, content: { [mediaType]: { schema: { type: 'string' } } } } },
        },
      },
      async (_request, reply) =>
        reply
          .type(asset.type)
          .header('cache-control', 'no-cache')
          .header('content-security-policy', DASHBOARD_CSP)
          .header('x-content-type-options', 'nosniff')
          .send(body),
    );
  }
}
