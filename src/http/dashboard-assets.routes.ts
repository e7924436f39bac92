import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';

/**
 * What the dashboard loads besides its own three files: uPlot (the timeline's chart, served from
 * `node_modules`, never a CDN) and the favicon. Each file is read once, on its first request.
 */
const FILES: { path: string; id: string; summary: string; type: string; locate: (publicDir: string) => string }[] = [
  {
    path: '/vendor/uPlot.iife.min.js',
    id: 'getDashboardChartScript',
    summary: 'uPlot 1.6, the timeline chart (from node_modules)',
    type: 'text/javascript; charset=utf-8',
    locate: () => require.resolve('uplot/dist/uPlot.iife.min.js'),
  },
  {
    path: '/vendor/uPlot.min.css',
    id: 'getDashboardChartStyles',
    summary: "uPlot's styles (from node_modules)",
    type: 'text/css; charset=utf-8',
    locate: () => require.resolve('uplot/dist/uPlot.min.css'),
  },
  {
    path: '/favicon.svg',
    id: 'getFavicon',
    summary: 'The dashboard icon',
    type: 'image/svg+xml',
    locate: (publicDir) => join(publicDir, 'favicon.svg'),
  },
];

export function registerDashboardAssets(app: FastifyInstance, deps: { publicDir: string; csp: string }): void {
  for (const file of FILES) {
    let body: Buffer | null = null;
    const mediaType = file.type.split(';')[0]!;
    app.get(
      file.path,
      {
        schema: {
          operationId: file.id,
          summary: file.summary,
          tags: ['Operations'],
          response: {
            200: { description: file.path.slice(1), content: { [mediaType]: { schema: { type: 'string' } } } },
          },
        },
      },
      async (_request, reply) => {
        body ??= readFileSync(file.locate(deps.publicDir));
        return reply
          .type(file.type)
          .header('cache-control', 'public, max-age=86400')
          .header('content-security-policy', deps.csp)
          .header('x-content-type-options', 'nosniff')
          .send(body);
      },
    );
  }
}
