import { DomainError } from '../../src/domain/errors';
import { normalizeWhatsAppWebhook } from '../../src/ingest/whatsapp.normalizer';
import { isValidWhatsAppSignature, signWhatsAppBody } from '../../src/ingest/whatsapp.signature';
import { whatsappFixture } from '../support/fixtures';

const WAMID = 'wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI3QTQ4MTI2QjQ4RjI0MzM2NUUA';
const normalize = (name: string, replace?: Record<string, string>) =>
  normalizeWhatsAppWebhook(JSON.parse(whatsappFixture(name, replace)));
const at = (seconds: number) => new Date(seconds * 1000);

describe('the WhatsApp Cloud API normalizer, on recorded shapes', () => {
  it('sent, with conversation and pricing', () => {
    expect(normalize('status-sent')).toEqual({
      facts: [
        {
          messageId: WAMID,
          fact: { evidence: 'SENT', at: at(1781517900) },
          campaignId: null,
          recipient: '+16505076520',
          phoneNumberId: '106540352242922',
        },
      ],
      ignored: {},
    });
  });

  it('delivered and read in one delivery', () => {
    expect(normalize('status-delivered-read').facts.map((f) => [f.fact.evidence, f.fact.at])).toEqual([
      ['DELIVERED', at(1781517905)],
      ['READ', at(1781517960)],
    ]);
  });

  it('failed keeps the error code and title', () => {
    expect(normalize('status-failed').facts[0]!.fact).toEqual({
      evidence: 'FAILED',
      at: at(1781517902),
      error: { code: 131026, title: 'Message undeliverable' },
    });
  });

  it('biz_opaque_callback_data names the campaign when it is a campaign id', () => {
    const campaignId = '507f1f77bcf86cd799439060';
    expect(normalize('status-with-callback', { CAMPAIGN_ID: campaignId }).facts[0]).toMatchObject({
      campaignId,
      recipient: '+16505076522',
    });
    expect(normalize('status-with-callback', { CAMPAIGN_ID: 'some other app data' }).facts[0]!.campaignId).toBeNull();
  });

  it('a text reply to our message is REPLIED, linked by context.id', () => {
    expect(normalize('message-text-reply').facts).toEqual([
      {
        messageId: WAMID,
        fact: { evidence: 'REPLIED', at: at(1781518000) },
        campaignId: null,
        recipient: null,
        phoneNumberId: '106540352242922',
      },
    ]);
  });

  it('each fact carries the business number of its change, or null when the change names none usable', () => {
    const body = (metadata: unknown) => ({
      object: 'whatsapp_business_account',
      entry: [
        {
          changes: [
            {
              field: 'messages',
              value: { metadata, statuses: [{ id: 'wamid.A', status: 'sent', timestamp: '1781517900' }] },
            },
          ],
        },
      ],
    });
    const numberOf = (metadata: unknown) => normalizeWhatsAppWebhook(body(metadata)).facts[0]!.phoneNumberId;
    expect(numberOf({ phone_number_id: '222' })).toBe('222');
    expect(numberOf(undefined)).toBeNull();
    expect(numberOf({})).toBeNull();
    expect(numberOf({ phone_number_id: 106540352242922 })).toBeNull();
    expect(numberOf({ phone_number_id: '1\u00002' })).toBeNull();
    expect(numberOf({ phone_number_id: '\ud800' })).toBeNull();
    expect(numberOf({ phone_number_id: 'x'.repeat(513) })).toBeNull();
  });

  it('quick-reply buttons and interactive button and list replies are CLICKED', () => {
    expect(normalize('message-button').facts.map((f) => [f.messageId, f.fact.evidence])).toEqual([[WAMID, 'CLICKED']]);
    expect(normalize('message-interactive').facts.map((f) => [f.messageId, f.fact.evidence])).toEqual([
      ['wamid.BUTTON_REPLY_TARGET', 'CLICKED'],
      ['wamid.LIST_REPLY_TARGET', 'CLICKED'],
    ]);
  });

  it('an image reply and a reaction are REPLIED; a removed reaction is skipped', () => {
    const { facts, ignored } = normalize('message-image-reaction');
    expect(facts.map((f) => [f.messageId, f.fact.evidence])).toEqual([
      ['wamid.IMAGE_REPLY_TARGET', 'REPLIED'],
      ['wamid.REACTION_TARGET', 'REPLIED'],
    ]);
    expect(ignored).toEqual({ reaction_removed: 1 });
  });

  it('skips and counts what answers nothing of ours, unknown statuses and other fields', () => {
    expect(normalize('ignored-items')).toEqual({
      facts: [],
      ignored: { unlinked_message: 1, unknown_status: 1, other_field: 1 },
    });
  });

  it('refuses bodies that are not the Cloud API shape', () => {
    for (const body of [null, [], {}, { object: 'page', entry: [] }, { object: 'whatsapp_business_account' }]) {
      expect(() => normalizeWhatsAppWebhook(body)).toThrow(DomainError);
    }
    expect(
      normalizeWhatsAppWebhook({ object: 'whatsapp_business_account', entry: [5, { changes: [null] }] }).ignored,
    ).toEqual({
      malformed_item: 2,
    });
  });
});

describe('X-Hub-Signature-256', () => {
  const body = Buffer.from(whatsappFixture('status-sent'));
  const secret = 'app-secret';

  it('accepts the HMAC of the raw bytes and nothing else', () => {
    const good = signWhatsAppBody(body, secret);
    expect(isValidWhatsAppSignature(body, good, secret)).toBe(true);
    expect(isValidWhatsAppSignature(body, good.toUpperCase().replace('SHA256', 'sha256'), secret)).toBe(true);
    expect(isValidWhatsAppSignature(body, undefined, secret)).toBe(false);
    expect(isValidWhatsAppSignature(body, '', secret)).toBe(false);
    expect(isValidWhatsAppSignature(body, good.slice(7), secret)).toBe(false);
    expect(isValidWhatsAppSignature(body, 'sha1=' + good.slice(7), secret)).toBe(false);
    expect(isValidWhatsAppSignature(body, signWhatsAppBody(body, 'other'), secret)).toBe(false);
    const altered = Buffer.from(body.toString().replace('"sent"', '"read"'));
    expect(isValidWhatsAppSignature(altered, good, secret)).toBe(false);
    const reserialized = Buffer.from(JSON.stringify(JSON.parse(body.toString())));
    expect(isValidWhatsAppSignature(reserialized, good, secret)).toBe(false);
  });
});
