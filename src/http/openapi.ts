import type { ServerResponse } from 'node:http';
import { DISPATCHER_EVENT_TYPES } from '../domain/delivery-event';
import { sendJson } from './http-io';

const error = (codes: string[], withDetails = false) => ({
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', enum: codes },
    message: { type: 'string' },
    ...(withDetails
      ? {
          details: {
            type: 'array',
            items: {
              type: 'object',
              required: ['index', 'reason'],
              properties: { index: { type: 'integer', minimum: 0 }, reason: { type: 'string' } },
            },
          },
        }
      : {}),
  },
});

const time = { type: ['string', 'null'], pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$' };
const count = { type: 'integer', minimum: 0 };
const jsonError = (description: string, schema: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } },
});

/** OpenAPI 3.1 of the REST path, the dispatcher's events endpoint and the WhatsApp webhook. */
export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'Campaign Stats Gateway REST',
    version: '1.0.0',
    description:
      'Per-contact delivery stats of WhatsApp campaigns. GraphQL (POST /graphql, subscriptions over graphql-ws) is described by schema.graphql.',
  },
  components: {
    securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'wapl_… API key' } },
    schemas: {
      StatsResponse: {
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
          status: { const: 'success' },
          campaign_id: { type: 'string', pattern: '^[0-9a-f]{24}$' },
          name: { type: 'string' },
          campaign_status: { enum: ['draft', 'scheduled', 'running', 'completed', 'cancelled', 'failed'] },
          total_contacts: count,
          sent_count: count,
          delivered_count: count,
          read_count: count,
          clicked_count: count,
          failed_count: count,
          replied_count: count,
          success_count: count,
          created_at: { ...time, type: 'string' },
          scheduled_at: time,
          started_at: time,
          completed_at: time,
        },
      },
      Error: error([
        'bad_request',
        'unauthorized',
        'not_found',
        'rate_limited',
        'internal_error',
        'service_unavailable',
        'forbidden',
        'payload_too_large',
        'method_not_allowed',
      ]),
      BatchError: error(
        [
          'bad_request',
          'unauthorized',
          'not_found',
          'unprocessable_entity',
          'payload_too_large',
          'internal_error',
          'service_unavailable',
        ],
        true,
      ),
      Event: {
        type: 'object',
        required: ['type'],
        properties: {
          id: {
            type: 'string',
            minLength: 1,
            maxLength: 200,
            description: 'an event id seen before in the workspace is skipped',
          },
          type: { enum: [...DISPATCHER_EVENT_TYPES] },
          campaign_id: { type: 'string', pattern: '^[0-9a-f]{24}$' },
          contact: { type: 'string', pattern: '^\\+[0-9]{8,15}$' },
          message_id: {
            type: 'string',
            minLength: 1,
            maxLength: 200,
            description: 'with message.sent and a contact: registers it',
          },
          timestamp: {
            oneOf: [
              { type: 'string', format: 'date-time' },
              { type: 'integer', minimum: 0 },
            ],
          },
          error: {
            type: 'object',
            required: ['code'],
            properties: { code: { type: 'integer' }, title: { type: 'string' } },
          },
        },
      },
      Accepted: {
        type: 'object',
        required: ['status', 'accepted'],
        properties: { status: { const: 'success' }, accepted: count },
      },
      WebhookAccepted: {
        type: 'object',
        required: ['status', 'facts', 'ignored'],
        properties: { status: { const: 'success' }, facts: count, ignored: count },
      },
    },
  },
  paths: {
    '/api/v1/campaigns/{campaign_id}/stats': {
      get: {
        summary: "A campaign's stats in the reference shape",
        security: [{ apiKey: [] }],
        parameters: [
          { name: 'campaign_id', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'If-None-Match', in: 'header', required: false, schema: { type: 'string' } },
        ],
        responses: {
          '200': {
            description: 'The stats; a strong ETag',
            headers: { ETag: { schema: { type: 'string' } } },
            content: { 'application/json': { schema: { $ref: '#/components/schemas/StatsResponse' } } },
          },
          '304': { description: 'Unchanged since the ETag given in If-None-Match' },
          '400': jsonError('Invalid campaign_id', 'Error'),
          '401': jsonError('Missing or invalid API key', 'Error'),
          '404': jsonError("No such campaign, or another workspace's", 'Error'),
          '429': jsonError('Over the rate limit; see Retry-After', 'Error'),
          '500': jsonError('Unexpected error', 'Error'),
          '503': jsonError('Database unavailable; see Retry-After', 'Error'),
        },
      },
    },
    '/api/v1/events': {
      post: {
        summary: 'Dispatcher events: one, or a batch applied whole in one transaction',
        security: [{ apiKey: [] }],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                oneOf: [
                  { $ref: '#/components/schemas/Event' },
                  {
                    type: 'object',
                    required: ['events'],
                    properties: {
                      events: {
                        type: 'array',
                        minItems: 1,
                        maxItems: 10000,
                        items: { $ref: '#/components/schemas/Event' },
                      },
                    },
                  },
                ],
              },
            },
          },
        },
        responses: {
          '200': {
            description: 'Committed',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Accepted' } } },
          },
          '400': jsonError('Malformed; every bad event named', 'BatchError'),
          '401': jsonError('Missing or invalid API key', 'BatchError'),
          '404': jsonError("A campaign missing or another workspace's", 'BatchError'),
          '413': jsonError('Body over 8 MiB', 'BatchError'),
          '422': jsonError(
            'A contact not in its campaign, or a message_id unregistered or registered to another contact',
            'BatchError',
          ),
          '503': jsonError('Database unavailable; retry', 'BatchError'),
        },
      },
    },
    '/webhooks/whatsapp': {
      get: {
        summary: "Meta's verification handshake",
        parameters: [
          { name: 'hub.mode', in: 'query', schema: { const: 'subscribe' } },
          { name: 'hub.verify_token', in: 'query', schema: { type: 'string' } },
          { name: 'hub.challenge', in: 'query', schema: { type: 'string' } },
        ],
        responses: {
          '200': { description: 'hub.challenge echoed', content: { 'text/plain': { schema: { type: 'string' } } } },
          '403': jsonError('Wrong token or mode', 'Error'),
        },
      },
      post: {
        summary: 'WhatsApp Cloud API webhook',
        parameters: [
          {
            name: 'X-Hub-Signature-256',
            in: 'header',
            required: true,
            schema: { type: 'string', pattern: '^sha256=[0-9a-fA-F]{64}$' },
            description: 'HMAC-SHA256 of the raw body with the app secret',
          },
        ],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['object', 'entry'],
                properties: { object: { const: 'whatsapp_business_account' }, entry: { type: 'array' } },
              },
            },
          },
        },
        responses: {
          '200': {
            description: 'Committed',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/WebhookAccepted' } } },
          },
          '400': jsonError('Signed, but not the Cloud API shape', 'Error'),
          '401': jsonError('Missing or wrong signature; nothing recorded', 'Error'),
          '413': jsonError('Body over 1 MiB', 'Error'),
          '503': jsonError('Not configured, or the database is unavailable; Meta retries', 'Error'),
        },
      },
    },
  },
} as const;

/** `GET /openapi.json`. */
export function handleOpenApi(response: ServerResponse): void {
  sendJson(response, 200, OPENAPI_DOCUMENT, { 'cache-control': 'public, max-age=300' });
}
