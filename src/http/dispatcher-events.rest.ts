import type { FastifyInstance } from 'fastify';
import { badInput } from '../domain/errors';
import type { DispatcherEventsService } from '../ingest/dispatcher-events.service';
import type { IngestMetrics } from '../ingest/ingest-metrics';
import { MAX_EVENTS_PER_REQUEST, parseDispatcherEvents } from '../ingest/dispatcher-event.parser';
import { KEYED_ERRORS, errorResponses } from './schemas';

/** Largest body of `POST /api/v1/events`. @default 8 MiB */
export const EVENTS_BODY_LIMIT = 8 * 1024 * 1024;

/** Parses a JSON body whatever its declared type (dispatchers are not always careful with it). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw badInput('Body is not valid JSON');
  }
}

/**
 * `POST /api/v1/events`: parse whole, apply in one transaction, answer after the commit. The key
 * is checked but not charged: ingestion is bounded by its body limit, not by the read budget.
 */
export async function registerDispatcherEvents(
  app: FastifyInstance,
  service: DispatcherEventsService,
  metrics: IngestMetrics,
): Promise<void> {
  await app.register((scope, _options, registered) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: EVENTS_BODY_LIMIT }, (_request, body, done) => {
      try {
        done(null, parseJson(body as string));
      } catch (error) {
        done(error as Error, undefined);
      }
    });
    scope.addHook('onResponse', async (_request, reply) => {
      if (reply.statusCode >= 400) metrics.refused('dispatcher', reply.statusCode);
    });
    scope.post(
      '/api/v1/events',
      {
        config: { auth: 'key-no-spend' },
        bodyLimit: EVENTS_BODY_LIMIT,
        attachValidation: true,
        schema: {
          operationId: 'postDispatcherEvents',
          summary: 'Dispatcher events: one, or a batch applied whole in one transaction',
          tags: ['Ingestion'],
          security: [{ apiKey: [] }],
          body: {
            anyOf: [
              { $ref: 'Event#' },
              {
                type: 'object',
                required: ['events'],
                properties: {
                  events: { type: 'array', minItems: 1, maxItems: MAX_EVENTS_PER_REQUEST, items: { $ref: 'Event#' } },
                },
              },
            ],
          },
          response: {
            200: {
              description: 'Committed',
              type: 'object',
              required: ['status', 'accepted'],
              properties: { status: { type: 'string', const: 'success' }, accepted: { type: 'integer', minimum: 0 } },
            },
            ...errorResponses({
              BAD_USER_INPUT: 'Malformed; every bad event named in `details`',
              NOT_FOUND: "A campaign missing or another workspace's; named in `details`",
              PAYLOAD_TOO_LARGE: 'Body over 8 MiB',
              UNPROCESSABLE:
                'A contact not in its campaign, or a message_id unregistered or registered to another contact',
              ...KEYED_ERRORS,
            }),
          },
        },
      },
      async (request) => {
        const receivedAt = new Date();
        // The parser names every bad event; the schema (the document's word) may refuse no more than it.
        const events = parseDispatcherEvents(request.body, receivedAt);
        if (request.validationError) throw badInput(request.validationError.message);
        const result = await service.ingest(request.principal!.workspaceId, events);
        return { status: 'success', accepted: result.accepted };
      },
    );
    registered();
  });
}
