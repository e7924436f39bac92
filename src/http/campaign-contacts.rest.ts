import { RestOperation } from './rest-operation';
import type { GraphQLSchema } from 'graphql';
import { badInput } from '../domain/errors';
import type { FastifyInstance } from 'fastify';
import type { Principal } from '../auth/api-keys.service';
import type { CampaignsService } from '../campaigns/campaigns.service';
import { CAMPAIGN_ID_PARAMS, CAMPAIGN_ID_PATTERN, KEYED_ERRORS, errorResponses } from './schemas';

/** The one operation the REST drill-down runs: the same resolver, schema and errors as GraphQL. */
const CONTACTS_OPERATION = `
  query CampaignContactsRest($id: ID!, $filter: ContactFilter!, $first: Int!, $after: String) {
    campaignContacts(campaignId: $id, filter: $filter, first: $first, after: $after) {
      nodes {
        phone stage sentAt deliveredAt readAt clickedAt repliedAt failedAt
        failure { code title }
      }
      pageInfo { hasNextPage endCursor }
    }
  }`;

export const CONTACT_FILTERS = ['all', 'sent', 'delivered', 'read', 'clicked', 'replied', 'failed', 'pending'] as const;
const STAGES = ['pending', 'sent', 'delivered', 'read', 'clicked', 'replied', 'failed'] as const;

interface ContactFields {
  phone: string;
  stage: string;
  sentAt: string | null;
  deliveredAt: string | null;
  readAt: string | null;
  clickedAt: string | null;
  repliedAt: string | null;
  failedAt: string | null;
  failure: { code: number; title: string } | null;
}

interface Query {
  filter?: string;
  limit?: string;
  cursor?: string;
}

/** RFC 3339 UTC with a `Z` and no fraction, as the reference API writes times. */
const referenceTime = (iso: string | null): string | null => (iso === null ? null : iso.replace(/\.\d+Z$/, 'Z'));
const nullableTime = { type: ['string', 'null'], pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$' } as const;

export const CONTACTS_RESPONSE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['status', 'campaign_id', 'filter', 'contacts', 'next_cursor'],
  properties: {
    status: { type: 'string', const: 'success' },
    campaign_id: { type: 'string', pattern: CAMPAIGN_ID_PATTERN },
    filter: { type: 'string', enum: [...CONTACT_FILTERS] },
    contacts: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: [
          'phone',
          'stage',
          'sent_at',
          'delivered_at',
          'read_at',
          'clicked_at',
          'replied_at',
          'failed_at',
          'failure_code',
          'failure_title',
        ],
        properties: {
          phone: { type: 'string' },
          stage: { type: 'string', enum: [...STAGES] },
          sent_at: nullableTime,
          delivered_at: nullableTime,
          read_at: nullableTime,
          clicked_at: nullableTime,
          replied_at: nullableTime,
          failed_at: nullableTime,
          failure_code: { type: ['integer', 'null'] },
          failure_title: { type: ['string', 'null'] },
        },
      },
    },
    next_cursor: { type: ['string', 'null'], description: 'pass as `cursor` for the next page; null on the last' },
  },
} as const;

/** The `filter` query parameter of the contacts list and its CSV export. */
export const FILTER_PARAMETER = {
  type: 'string',
  pattern: `^(${CONTACT_FILTERS.join('|')})$`,
  description: 'the stats field whose contacts to list (default `all`; `pending`: no outcome yet)',
} as const;

/** `GET /api/v1/campaigns/{campaign_id}/contacts` as a thin adapter over the `campaignContacts` query. */
export class CampaignContactsRest {
  private readonly operation: RestOperation<{
    campaignContacts: { nodes: ContactFields[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
  }>;

  constructor(schema: GraphQLSchema, campaigns: CampaignsService) {
    this.operation = new RestOperation(schema, campaigns, 'contacts', CONTACTS_OPERATION);
  }

  /** The REST body. */
  async body(
    principal: Principal,
    campaignId: string,
    filter: (typeof CONTACT_FILTERS)[number],
    limit: number,
    cursor: string | null,
  ): Promise<unknown> {
    const page = (
      await this.operation.run(principal, {
        id: campaignId,
        filter: filter.toUpperCase(),
        first: limit,
        after: cursor,
      })
    ).campaignContacts;
    return {
      status: 'success',
      campaign_id: campaignId,
      filter,
      contacts: page.nodes.map((c) => ({
        phone: c.phone,
        stage: c.stage.toLowerCase(),
        sent_at: referenceTime(c.sentAt),
        delivered_at: referenceTime(c.deliveredAt),
        read_at: referenceTime(c.readAt),
        clicked_at: referenceTime(c.clickedAt),
        replied_at: referenceTime(c.repliedAt),
        failed_at: referenceTime(c.failedAt),
        failure_code: c.failure?.code ?? null,
        failure_title: c.failure?.title ?? null,
      })),
      next_cursor: page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null,
    };
  }

  /** Adds the route. */
  register(app: FastifyInstance): void {
    app.get<{ Params: { campaign_id: string }; Querystring: Query }>(
      '/api/v1/campaigns/:campaign_id/contacts',
      {
        config: { auth: 'key' },
        attachValidation: true,
        schema: {
          operationId: 'getCampaignContacts',
          summary: 'The contacts behind a count, a page at a time, by phone number',
          tags: ['REST'],
          security: [{ apiKey: [] }],
          params: CAMPAIGN_ID_PARAMS,
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              filter: FILTER_PARAMETER,
              limit: {
                type: 'string',
                pattern: '^[0-9]{1,3}$',
                description: 'contacts per page, 0 to 500 (default 50)',
              },
              cursor: {
                type: 'string',
                pattern: '^[A-Za-z0-9_-]{1,64}$',
                description: 'the `next_cursor` of the page before',
              },
            },
          },
          response: {
            200: { description: 'One page of contacts', ...CONTACTS_RESPONSE_SCHEMA },
            ...errorResponses({
              BAD_USER_INPUT: 'Invalid campaign_id, filter, limit or cursor',
              NOT_FOUND: "No such campaign, or another workspace's",
              ...KEYED_ERRORS,
            }),
          },
        },
      },
      async (request, reply) => {
        if (request.validationError) {
          const where = request.validationError.validationContext;
          if (where === 'params') throw badInput('Invalid campaign_id');
          const field = /filter|limit|cursor/.exec(request.validationError.message)?.[0];
          throw badInput(field ? `Invalid ${field}` : 'Invalid query string');
        }
        const { filter = 'all', limit = '50', cursor } = request.query;
        const body = await this.body(
          request.principal!,
          request.params.campaign_id,
          filter as (typeof CONTACT_FILTERS)[number],
          Number(limit),
          cursor ?? null,
        );
        void reply.header('cache-control', 'private, no-store');
        return reply.type('application/json; charset=utf-8').send(body);
      },
    );
  }
}
