import type { FastifyInstance } from 'fastify';
import type { ContactsExportService } from '../campaigns/contacts-export.service';
import { badInput } from '../domain/errors';
import type { ContactFilterName } from '../store/campaign-contacts.store';
import { FILTER_PARAMETER } from './campaign-contacts.rest';
import { CAMPAIGN_ID_PARAMS, KEYED_ERRORS, errorResponses } from './schemas';

/** `GET /api/v1/campaigns/{campaign_id}/contacts.csv`: the drill-down's contacts as a CSV download. */
export function registerContactsCsv(app: FastifyInstance, exports: ContactsExportService): void {
  app.get<{ Params: { campaign_id: string }; Querystring: { filter?: string } }>(
    '/api/v1/campaigns/:campaign_id/contacts.csv',
    {
      config: { auth: 'key' },
      attachValidation: true,
      schema: {
        operationId: 'exportCampaignContacts',
        summary: "A campaign's contacts as CSV, streamed",
        tags: ['REST'],
        security: [{ apiKey: [] }],
        params: CAMPAIGN_ID_PARAMS,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            filter: FILTER_PARAMETER,
          },
        },
        response: {
          200: {
            description:
              'CSV (RFC 4180, CRLF), header row `phone,stage,sent_at,delivered_at,read_at,clicked_at,replied_at,failed_at,failure_code,failure_title`',
            headers: { 'content-disposition': { type: 'string' } },
            content: { 'text/csv': { schema: { type: 'string' } } },
          },
          ...errorResponses({
            BAD_USER_INPUT: 'Invalid campaign_id or filter',
            NOT_FOUND: "No such campaign, or another workspace's",
            ...KEYED_ERRORS,
            RATE_LIMITED: 'Over the rate limit, or the workspace has 2 exports in flight; see `Retry-After`',
          }),
        },
      },
    },
    async (request, reply) => {
      if (request.validationError) {
        throw badInput(
          request.validationError.validationContext === 'params' ? 'Invalid campaign_id' : 'Invalid filter',
        );
      }
      const filter = (request.query.filter ?? 'all') as ContactFilterName;
      const id = request.params.campaign_id;
      const stream = await exports.open(request.principal!.workspaceId, id, filter);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="campaign-${id}-${filter}.csv"`)
        .header('cache-control', 'private, no-store')
        .send(stream);
    },
  );
}
