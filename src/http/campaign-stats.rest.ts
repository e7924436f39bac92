import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import { execute, parse, validate } from 'graphql';
import type { Principal } from '../auth/api-keys.service';
import type { CampaignsService } from '../campaigns/campaigns.service';
import { DomainError } from '../domain/errors';
import type { ErrorCode } from '../domain/errors';
import { createContext } from '../graphql/context';
import { sendJson } from './http-io';

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

const KNOWN_CODES = new Set<string>(['BAD_USER_INPUT', 'NOT_FOUND', 'UNAUTHENTICATED', 'RATE_LIMITED']);

/** `GET /api/v1/campaigns/{campaign_id}/stats` as a thin adapter over the `campaignStats` query. */
export class CampaignStatsRest {
  private readonly document: DocumentNode;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly campaigns: CampaignsService,
  ) {
    this.document = parse(STATS_OPERATION);
    const errors = validate(schema, this.document);
    if (errors.length > 0)
      throw new Error(`REST stats operation is invalid: ${errors.map((e) => e.message).join('; ')}`);
  }

  async handle(
    request: IncomingMessage,
    response: ServerResponse,
    principal: Principal,
    campaignId: string,
  ): Promise<void> {
    const result = await execute({
      schema: this.schema,
      document: this.document,
      variableValues: { id: campaignId },
      contextValue: createContext(principal, this.campaigns),
    });
    const error = result.errors?.[0];
    if (error) {
      // The same errors as GraphQL: domain errors keep their code, anything else is rethrown and masked.
      if (error.originalError instanceof DomainError) throw error.originalError;
      const code = error.extensions?.code;
      if (typeof code === 'string' && KNOWN_CODES.has(code)) throw new DomainError(code as ErrorCode, error.message);
      throw error.originalError ?? error;
    }
    const body = referenceStatsBody((result.data as { campaignStats: StatsFields }).campaignStats);
    const etag = strongEtag(body);
    const headers = { etag, 'cache-control': 'private, no-cache' };
    if (etagMatches(request.headers['if-none-match'], etag)) {
      response.writeHead(304, headers);
      response.end();
      return;
    }
    sendJson(response, 200, body, headers);
  }
}
