import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DomainError, unauthenticated } from '../domain/errors';
import type { WhatsAppWebhookService } from '../ingest/whatsapp-webhook.service';
import { isValidWhatsAppSignature } from '../ingest/whatsapp.signature';
import { parseJsonBody, readBody, sendJson } from './http-io';

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

/** `GET /webhooks/whatsapp`: Meta's handshake. 200 with `hub.challenge` as the body, else 403. */
export function handleWhatsAppVerification(response: ServerResponse, url: URL, config: WhatsAppWebhookConfig): void {
  const mode = url.searchParams.get('hub.mode');
  const token = url.searchParams.get('hub.verify_token') ?? '';
  const challenge = url.searchParams.get('hub.challenge') ?? '';
  if (mode === 'subscribe' && config.whatsappVerifyToken && sameText(token, config.whatsappVerifyToken)) {
    response.writeHead(200, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(challenge),
    });
    response.end(challenge);
    return;
  }
  sendJson(response, 403, { error: 'forbidden', message: 'Webhook verification failed' });
}

/**
 * `POST /webhooks/whatsapp`: signature over the raw bytes first (401, nothing recorded), then the
 * Cloud API shape (400), then one commit; 200 only after it, 5xx so that Meta retries otherwise.
 */
export async function handleWhatsAppWebhook(
  request: IncomingMessage,
  response: ServerResponse,
  config: WhatsAppWebhookConfig,
  service: WhatsAppWebhookService,
): Promise<void> {
  if (!config.whatsappAppSecret) {
    throw new DomainError('UNAVAILABLE', 'WHATSAPP_APP_SECRET is not configured');
  }
  const raw = await readBody(request, WEBHOOK_BODY_LIMIT);
  const signature = request.headers['x-hub-signature-256'];
  if (!isValidWhatsAppSignature(raw, Array.isArray(signature) ? signature[0] : signature, config.whatsappAppSecret)) {
    throw unauthenticated('Invalid or missing X-Hub-Signature-256');
  }
  const result = await service.receive(parseJsonBody(raw));
  sendJson(response, 200, { status: 'success', ...result });
}
