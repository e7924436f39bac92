import type { FastifyInstance } from 'fastify';
import { Counter } from 'prom-client';
import type { RateLimits } from '../auth/rate-limits';
import type { TrackedLinksService } from '../campaigns/tracked-links.service';
import { badInput } from '../domain/errors';
import type { Logger } from '../logger';
import type { Metrics } from './metrics';
import { CAMPAIGN_ID_PATTERN, KEYED_ERRORS, errorResponse, errorResponses } from './schemas';

const NOT_FOUND_BODY = JSON.stringify({ error: 'not_found', message: 'Link not found' });

/** The tracked-link routes: the per-contact URL list, and the redirect that counts the click. */
export function registerTrackedLinks(
  app: FastifyInstance,
  deps: {
    links: TrackedLinksService;
    metrics: Metrics;
    logger: Logger;
    publicUrl: () => string;
    /** unknown tokens spend their address's budget, as failed authentications do */
    limits: RateLimits;
  },
): void {
  const clicks = new Counter({
    name: 'csg_tracked_clicks_total',
    help: 'Visits to tracked links, by outcome (counted, not_counted: HEAD or a link preview, unknown token, lost)',
    labelNames: ['outcome'],
    registers: [deps.metrics.registry],
  });
  const lost = new Counter({
    name: 'csg_tracked_clicks_lost_total',
    help: 'Clicks redirected but not recorded because the database could not commit them',
    registers: [deps.metrics.registry],
  });

  app.get<{ Params: { campaign_id: string; link_id: string } }>(
    '/api/v1/campaigns/:campaign_id/links/:link_id/urls.csv',
    {
      config: { auth: 'key' },
      attachValidation: true,
      schema: {
        operationId: 'exportTrackedLinkUrls',
        summary: 'One tracked URL per contact of the campaign, as CSV `phone,url`',
        tags: ['REST'],
        security: [{ apiKey: [] }],
        params: {
          type: 'object',
          required: ['campaign_id', 'link_id'],
          properties: {
            campaign_id: { type: 'string', pattern: CAMPAIGN_ID_PATTERN },
            link_id: { type: 'string', pattern: CAMPAIGN_ID_PATTERN },
          },
        },
        response: {
          200: {
            description: 'CSV (CRLF), header row `phone,url`, by phone; each URL `<PUBLIC_URL>/r/<token>`',
            headers: { 'content-disposition': { type: 'string' } },
            content: { 'text/csv': { schema: { type: 'string' } } },
          },
          ...errorResponses({
            BAD_USER_INPUT: 'Invalid campaign_id or link_id',
            NOT_FOUND: "No such campaign or link, or another workspace's",
            ...KEYED_ERRORS,
            RATE_LIMITED: 'Over the rate limit, or the workspace has 2 exports in flight; see `Retry-After`',
          }),
        },
      },
    },
    async (request, reply) => {
      if (request.validationError) {
        throw badInput(/link_id/.test(request.validationError.message) ? 'Invalid link_id' : 'Invalid campaign_id');
      }
      const { campaign_id: campaignId, link_id: linkId } = request.params;
      const stream = await deps.links.urlsCsv(request.principal!.workspaceId, campaignId, linkId, deps.publicUrl());
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="campaign-${campaignId}-link-${linkId}-urls.csv"`)
        .header('cache-control', 'private, no-store')
        .send(stream);
    },
  );

  app.get<{ Params: { token: string } }>(
    '/r/:token',
    {
      attachValidation: true,
      schema: {
        // A browser's route, not an API's: only a redirect or a 404, which OpenAPI linters refuse
        // as an operation (no 2xx). Kept out of /openapi.json; docs/rest.md#tracked-links has it.
        hide: true,
        operationId: 'followTrackedLink',
        summary: "A contact's tracked link: redirects to the registered URL and counts the click",
        tags: ['Tracked links'],
        params: {
          type: 'object',
          required: ['token'],
          properties: { token: { type: 'string', pattern: '^[A-Za-z0-9_-]{48}$' } },
        },
        response: {
          302: {
            description:
              'To the registered URL exactly (`Location`), `Cache-Control: no-store`; the click is committed first (not counted for HEAD and link previews)',
            headers: { location: { type: 'string' }, 'cache-control': { type: 'string' } },
            type: 'null',
          },
          404: errorResponse('Unknown, forged or truncated token: no redirect'),
          429: errorResponse('This address sent too many unknown tokens; see `Retry-After`'),
          503: errorResponse('The link cannot be looked up: database unavailable'),
          500: errorResponse('Unexpected error; no stack, no SQL'),
        },
      },
    },
    async (request, reply) => {
      // As with wrong keys: an address that spent its budget on unknown tokens is refused before
      // any lookup, so a flood of forged tokens stops costing queries. Genuine clicks spend nothing.
      await deps.limits.checkAddress(request.ip);
      const outcome = request.validationError
        ? ({ kind: 'unknown' } as const)
        : await deps.links.click(request.params.token, {
            head: request.method === 'HEAD',
            userAgent: request.headers['user-agent'],
          });
      clicks.inc({ outcome: outcome.kind });
      void reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
      if (outcome.kind === 'unknown') {
        await deps.limits.spendAddress(request.ip);
        return reply.code(404).type('application/json; charset=utf-8').send(NOT_FOUND_BODY);
      }
      if (outcome.kind === 'lost') {
        lost.inc();
        deps.logger.warn('links.click_lost', { error: outcome.error });
      }
      return reply.code(302).header('location', outcome.url).send();
    },
  );
}
