import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { DomainError, unauthenticated } from '../domain/errors';
import type { WhatsAppWebhookService } from '../ingest/whatsapp-webhook.service';
import type { IngestMetrics } from '../ingest/ingest-metrics';
import { isValidWhatsAppSignature } from '../ingest/whatsapp.signature';
import { parseJson } from './dispatcher-events.rest';
import { errorResponse, errorResponses } from './schemas';

/** Largest webhook body. Meta's are a few KiB; batches of statuses stay far below. @default 1 MiB */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;

export interface WhatsAppWebhookConfig {
  whatsappAppSecret: string | null;
  whatsappVerifyToken: string | null;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * `GET /webhooks/whatsapp` (Meta's handshake) and `POST /webhooks/whatsapp`: the signature over
 * the raw bytes first (401, nothing recorded), then the Cloud API shape (400), then one commit;
 * 200 only after it, 5xx (so that Meta retries) only when the gateway cannot record it.
 */
export async function registerWhatsAppWebhook(
  app: FastifyInstance,
  config: WhatsAppWebhookConfig,
  service: WhatsAppWebhookService,
  metrics: { ingest: IngestMetrics; timeWebhook: () => (status: number) => void },
): Promise<void> {
  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/webhooks/whatsapp',
    {
      attachValidation: true,
      schema: {
        operationId: 'verifyWhatsAppWebhook',
        summary: "Meta's verification handshake",
        tags: ['Ingestion'],
        querystring: {
          type: 'object',
          properties: {
            'hub.mode': { type: 'string', const: 'subscribe' },
            'hub.verify_token': { type: 'string' },
            'hub.challenge': { type: 'string' },
          },
        },
        response: {
          200: {
            description: '`hub.challenge` echoed',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
          403: errorResponse('Wrong token or mode, or no WHATSAPP_VERIFY_TOKEN configured'),
        },
      },
    },
    async (request, reply) => {
      const query = request.query;
      const token = query['hub.verify_token'] ?? '';
      if (
        query['hub.mode'] === 'subscribe' &&
        config.whatsappVerifyToken &&
        sameText(String(token), config.whatsappVerifyToken)
      ) {
        return reply.type('text/plain; charset=utf-8').send(String(query['hub.challenge'] ?? ''));
      }
      throw new DomainError('FORBIDDEN', 'Webhook verification failed');
    },
  );

  await app.register((scope, _options, registered) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_request, body, done) =>
      done(null, body),
    );
    scope.addHook('onRequest', async (_request, reply) => {
      const done = metrics.timeWebhook();
      reply.raw.once('finish', () => {
        done(reply.statusCode);
        if (reply.statusCode >= 400) metrics.ingest.refused('whatsapp', reply.statusCode);
      });
    });
    scope.post<{ Body: Buffer | undefined }>(
      '/webhooks/whatsapp',
      {
        bodyLimit: WEBHOOK_BODY_LIMIT,
        // The body is checked only once its signature is: the normalizer applies this schema and more.
        validatorCompiler: () => () => true,
        schema: {
          operationId: 'receiveWhatsAppWebhook',
          summary: 'WhatsApp Cloud API webhook: statuses and inbound messages',
          tags: ['Ingestion'],
          security: [{ webhookSignature: [] }],
          body: {
            type: 'object',
            required: ['object', 'entry'],
            properties: { object: { type: 'string', const: 'whatsapp_business_account' }, entry: { type: 'array' } },
          },
          response: {
            200: {
              description: 'Committed; `ignored` counts the items that were not applied',
              type: 'object',
              required: ['status', 'facts', 'ignored'],
              properties: {
                status: { type: 'string', const: 'success' },
                facts: { type: 'integer', minimum: 0 },
                ignored: { type: 'integer', minimum: 0 },
              },
            },
            ...errorResponses({
              BAD_USER_INPUT: 'Signed, but not JSON or not the Cloud API shape',
              UNAUTHENTICATED: 'Missing or wrong signature; nothing recorded',
              PAYLOAD_TOO_LARGE: 'Body over 1 MiB',
              INTERNAL_SERVER_ERROR: 'Unexpected error; Meta retries',
              SERVICE_UNAVAILABLE: 'No WHATSAPP_APP_SECRET configured, or the database is unavailable; Meta retries',
            }),
          },
        },
      },
      async (request) => {
        if (!config.whatsappAppSecret) {
          throw new DomainError('SERVICE_UNAVAILABLE', 'WHATSAPP_APP_SECRET is not configured');
        }
        const raw = request.body ?? Buffer.alloc(0);
        const signature = request.headers['x-hub-signature-256'];
        if (
          !isValidWhatsAppSignature(raw, Array.isArray(signature) ? signature[0] : signature, config.whatsappAppSecret)
        ) {
          throw unauthenticated('Invalid or missing X-Hub-Signature-256');
        }
        const result = await service.receive(parseJson(raw.toString('utf8')));
        return { status: 'success', ...result };
      },
    );
    registered();
  });
}
