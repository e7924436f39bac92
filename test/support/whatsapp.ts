import { signWhatsAppBody } from '../../src/ingest/whatsapp.signature';
import { TEST_APP_SECRET } from './test-app';
import { TEST_PHONE_NUMBER_ID } from './whatsapp-number';

export { TEST_PHONE_NUMBER_ID };

export interface StatusSpec {
  id: string;
  /** sent, delivered, read, failed, or anything Meta may add */
  status: string;
  timestamp: number;
  recipient?: string;
  callback?: string;
  error?: { code: number; title: string };
}

export interface InboundSpec {
  context: string;
  type: 'text' | 'button' | 'interactive' | 'image';
  timestamp: number;
  from?: string;
}

/**
 * A Cloud API webhook body with these statuses and inbound messages, in Meta's shape, from the
 * business number `phoneNumberId` (by default the test workspace's; null: no metadata at all).
 */
export function webhookBody(
  statuses: StatusSpec[],
  messages: InboundSpec[] = [],
  phoneNumberId: string | null = TEST_PHONE_NUMBER_ID,
): string {
  const value: Record<string, unknown> = {
    messaging_product: 'whatsapp',
    ...(phoneNumberId !== null
      ? { metadata: { display_phone_number: '15550783881', phone_number_id: phoneNumberId } }
      : {}),
  };
  if (statuses.length > 0) {
    value.statuses = statuses.map((s) => ({
      id: s.id,
      status: s.status,
      timestamp: String(s.timestamp),
      recipient_id: (s.recipient ?? '+16505550000').replace('+', ''),
      ...(s.callback ? { biz_opaque_callback_data: s.callback } : {}),
      ...(s.error ? { errors: [{ code: s.error.code, title: s.error.title, message: s.error.title }] } : {}),
    }));
  }
  if (messages.length > 0) {
    value.messages = messages.map((m, i) => ({
      context: { from: '15550783881', id: m.context },
      from: (m.from ?? '+16505550000').replace('+', ''),
      id: `wamid.inbound.${m.timestamp}.${i}`,
      timestamp: String(m.timestamp),
      type: m.type,
      ...(m.type === 'text' ? { text: { body: 'hello' } } : {}),
      ...(m.type === 'button' ? { button: { payload: 'SHOP', text: 'Shop now' } } : {}),
      ...(m.type === 'interactive'
        ? { interactive: { type: 'button_reply', button_reply: { id: 'b', title: 'B' } } }
        : {}),
      ...(m.type === 'image' ? { image: { id: '1', mime_type: 'image/jpeg' } } : {}),
    }));
  }
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{ id: '102290129340398', changes: [{ value, field: 'messages' }] }],
  });
}

export async function postWebhook(
  url: string,
  body: string,
  signature: string | null = signWhatsAppBody(body, TEST_APP_SECRET),
): Promise<{ status: number; json: any }> {
  const response = await fetch(`${url}/webhooks/whatsapp`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(signature !== null ? { 'x-hub-signature-256': signature } : {}),
    },
    body,
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}
