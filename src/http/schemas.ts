import { DISPATCHER_EVENT_TYPES } from '../domain/delivery-event';
import { ERROR_TABLE } from '../domain/errors';
import type { ErrorCode } from '../domain/errors';

/**
 * JSON schemas shared by the routes. Each route declares its params, query, body and every
 * response with these; Fastify validates and serializes with them and `/openapi.json` is
 * generated from them, so the document cannot drift from the server.
 */

const count = { type: 'integer', minimum: 0 } as const;
const referenceTime = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$' } as const;
const nullableTime = { type: ['string', 'null'], pattern: referenceTime.pattern } as const;
export const CAMPAIGN_ID_PATTERN = '^[0-9a-f]{24}$';

/** The `{campaign_id}` path parameter of the campaign routes. */
export const CAMPAIGN_ID_PARAMS = {
  type: 'object',
  required: ['campaign_id'],
  properties: { campaign_id: { type: 'string', pattern: CAMPAIGN_ID_PATTERN } },
} as const;

/** `{ "error": CODE, "message": TEXT }`, with `details` naming the bad items of a batch. */
export const ERROR_SCHEMA = {
  $id: 'Error',
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', enum: Object.values(ERROR_TABLE).map((row) => row.rest) },
    message: { type: 'string' },
    details: {
      type: 'array',
      items: {
        type: 'object',
        required: ['index', 'reason'],
        properties: { index: { type: 'integer', minimum: 0 }, reason: { type: 'string' } },
      },
    },
  },
} as const;

/** The reference API's stats body: keys in its order, times with a `Z` and no fraction. */
export const STATS_RESPONSE_SCHEMA = {
  $id: 'StatsResponse',
  type: 'object',
  additionalProperties: false,
  required: [
    'status',
    'campaign_id',
    'name',
    'campaign_status',
    'total_contacts',
    'sent_count',
    'delivered_count',
    'read_count',
    'clicked_count',
    'failed_count',
    'replied_count',
    'success_count',
    'created_at',
    'scheduled_at',
    'started_at',
    'completed_at',
  ],
  properties: {
    status: { type: 'string', const: 'success' },
    campaign_id: { type: 'string', pattern: CAMPAIGN_ID_PATTERN },
    name: { type: 'string' },
    campaign_status: { type: 'string', enum: ['draft', 'scheduled', 'running', 'completed', 'cancelled', 'failed'] },
    total_contacts: count,
    sent_count: count,
    delivered_count: count,
    read_count: count,
    clicked_count: count,
    failed_count: count,
    replied_count: count,
    success_count: count,
    created_at: referenceTime,
    scheduled_at: nullableTime,
    started_at: nullableTime,
    completed_at: nullableTime,
  },
} as const;

/** One dispatcher event; the parser (src/ingest/dispatcher-event.parser.ts) applies the same rules. */
export const EVENT_SCHEMA = {
  $id: 'Event',
  type: 'object',
  required: ['type'],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 200, description: 'an id seen before in the workspace is skipped' },
    type: { type: 'string', enum: [...DISPATCHER_EVENT_TYPES] },
    campaign_id: { type: 'string', pattern: CAMPAIGN_ID_PATTERN },
    contact: { type: 'string', pattern: '^\\+[0-9]{8,15}$' },
    message_id: {
      type: 'string',
      minLength: 1,
      maxLength: 200,
      description: 'with message.sent and a contact: registers the WhatsApp message id',
    },
    timestamp: {
      description: 'RFC 3339, or Unix seconds; default: the time of receipt',
      oneOf: [
        { type: 'string', minLength: 1 },
        { type: 'integer', minimum: 0 },
      ],
    },
    error: {
      type: 'object',
      required: ['code'],
      properties: { code: { type: 'integer' }, title: { type: 'string' } },
    },
  },
} as const;

export const SHARED_SCHEMAS = [ERROR_SCHEMA, STATS_RESPONSE_SCHEMA, EVENT_SCHEMA];

/** A JSON error response of the table's code, for a route's `response` map. */
export function errorResponse(description: string) {
  return { description, $ref: 'Error#' } as const;
}

/** The error responses of a route: `{ 401: …, 429: … }` from codes and what each means there. */
export function errorResponses(cases: Partial<Record<ErrorCode, string>>): Record<number, unknown> {
  const responses: Record<number, unknown> = {};
  for (const [code, description] of Object.entries(cases) as [ErrorCode, string][]) {
    responses[ERROR_TABLE[code].status] = errorResponse(description);
  }
  return responses;
}

/** The errors every API-key route can answer. */
export const KEYED_ERRORS = {
  UNAUTHENTICATED: 'Missing or invalid API key (`WWW-Authenticate: Bearer`)',
  RATE_LIMITED: 'Over the rate limit; see `Retry-After`',
  INTERNAL_SERVER_ERROR: 'Unexpected error; no stack, no SQL',
  SERVICE_UNAVAILABLE: 'Database unavailable; retry after `Retry-After`',
} as const;
