import { RestOperation } from './rest-operation';
import { createHash } from 'node:crypto';
import type { GraphQLSchema } from 'graphql';
import type { Principal } from '../auth/api-keys.service';
import type { CampaignsService } from '../campaigns/campaigns.service';
import type { FastifyInstance } from 'fastify';
import { badInput } from '../domain/errors';
import { CAMPAIGN_ID_PARAMS, KEYED_ERRORS, errorResponses } from './schemas';

/** The one operation the REST path runs: the same resolver, schema and errors as GraphQL. */
const STATS_OPERATION = `
  query CampaignStatsRest($id: ID!) {
    campaignStats(campaignId: $id) {
      campaignId name campaignStatus totalContacts sentCount deliveredCount readCount
      clickedCount failedCount repliedCount successCount createdAt scheduledAt startedAt completedAt
    }
  }`;

interface StatsFields {
  campaignId: string;
  name: string;
  campaignStatus: string;
  totalContacts: number;
  sentCount: number;
  deliveredCount: number;
  readCount: number;
  clickedCount: number;
  failedCount: number;
  repliedCount: number;
  successCount: number;
  createdAt: string;
  scheduledAt: string | null;
  startedAt: string | null;
  completedAt: string | null;
}

/** RFC 3339 UTC with a `Z` and no fraction, as the reference API writes times. */
const referenceTime = (iso: string | null): string | null => (iso === null ? null : iso.replace(/\.\d+Z$/, 'Z'));

/** The reference body (docs/rest.md), keys in its order. */
export function referenceStatsBody(s: StatsFields): string {
  return JSON.stringify({
    status: 'success',
    campaign_id: s.campaignId,
    name: s.name,
    campaign_status: s.campaignStatus.toLowerCase(),
    total_contacts: s.totalContacts,
    sent_count: s.sentCount,
    delivered_count: s.deliveredCount,
    read_count: s.readCount,
    clicked_count: s.clickedCount,
    failed_count: s.failedCount,
    replied_count: s.repliedCount,
    success_count: s.successCount,
    created_at: referenceTime(s.createdAt),
    scheduled_at: referenceTime(s.scheduledAt),
    started_at: referenceTime(s.startedAt),
    completed_at: referenceTime(s.completedAt),
  });
}

/** A strong validator of the exact bytes sent. */
export function strongEtag(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
}

/** `If-None-Match` per RFC 9110: `*`, or a list of tags compared weakly. */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  const bare = etag.replace(/^W\//, '');
  return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === bare);
}

/** `GET /api/v1/campaigns/{campaign_id}/stats` as a thin adapter over the `campaignStats` query. */
export class CampaignStatsRest {
  private readonly operation: RestOperation<{ campaignStats: StatsFields }>;

  constructor(schema: GraphQLSchema, campaigns: CampaignsService) {
    this.operation = new RestOperation(schema, campaigns, 'stats', STATS_OPERATION);
  }

  /** The reference body's exact bytes. */
  async body(principal: Principal, campaignId: string): Promise<string> {
    return referenceStatsBody((await this.operation.run(principal, { id: campaignId })).campaignStats);
  }

  /** Adds the route. */
  register(app: FastifyInstance): void {
    app.get<{ Params: { campaign_id: string }; Headers: { 'if-none-match'?: string } }>(
      '/api/v1/campaigns/:campaign_id/stats',
      {
        config: { auth: 'key' },
        attachValidation: true,
        schema: {
          operationId: 'getCampaignStats',
          summary: "A campaign's stats in the reference shape",
          tags: ['REST'],
          security: [{ apiKey: [] }],
          params: CAMPAIGN_ID_PARAMS,
          headers: { type: 'object', properties: { 'if-none-match': { type: 'string' } } },
          response: {
            200: {
              description: 'The stats, with a strong `ETag`',
              headers: { etag: { type: 'string' }, 'cache-control': { type: 'string' } },
              $ref: 'StatsResponse#',
            },
            304: { description: 'Unchanged since the `ETag` given in `If-None-Match`', type: 'null' },
            ...errorResponses({
              BAD_USER_INPUT: 'Invalid campaign_id (not 24 lowercase hex characters)',
              NOT_FOUND: "No such campaign, or another workspace's",
              ...KEYED_ERRORS,
            }),
          },
        },
      },
      async (request, reply) => {
        if (request.validationError) throw badInput('Invalid campaign_id');
        const body = await this.body(request.principal!, request.params.campaign_id);
        const etag = strongEtag(body);
        void reply.header('etag', etag).header('cache-control', 'private, no-cache');
        if (etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send();
        return reply.type('application/json; charset=utf-8').send(body);
      },
    );
  }
}
