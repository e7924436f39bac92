import type { DeliveryPipeline, DeliveryWork } from '../../src/ingest/delivery-pipeline';
import { WhatsAppWebhookService } from '../../src/ingest/whatsapp-webhook.service';
import { createLogger } from '../../src/logger';

const body = (numbers: (string | null)[]) => ({
  object: 'whatsapp_business_account',
  entry: [
    {
      changes: numbers.map((n, i) => ({
        field: 'messages',
        value: {
          ...(n === null ? {} : { metadata: { phone_number_id: n } }),
          statuses: [{ id: `wamid.${i}`, status: 'sent', timestamp: '1781517900' }],
        },
      })),
    },
  ],
});

describe('the webhook service: each change in its number’s workspace', () => {
  function setup(ttlMs: number) {
    const bindings = new Map<string, string>([['111', '7']]);
    const lookups: string[][] = [];
    const submitted: DeliveryWork[] = [];
    const ignored: Record<string, number> = {};
    const service = new WhatsAppWebhookService(
      {
        submit: (work: DeliveryWork) => {
          submitted.push(work);
          return Promise.resolve();
        },
      } as unknown as DeliveryPipeline,
      {
        workspacesOf: (ids) => {
          lookups.push([...ids]);
          return Promise.resolve(
            new Map(ids.flatMap((id) => (bindings.has(id) ? [[id, bindings.get(id)!] as const] : []))),
          );
        },
      },
      createLogger('silent'),
      { accepted: () => {}, refused: () => {}, ignored: (reason, n) => (ignored[reason] = (ignored[reason] ?? 0) + n) },
      { numberCacheTtlMs: ttlMs },
    );
    return { service, bindings, lookups, submitted, ignored };
  }

  it('tags facts with the owning workspace; unbound or missing numbers are ignored as unknown_phone_number', async () => {
    const { service, submitted, ignored } = setup(5000);
    expect(await service.receive(body(['111', '222', null, '111']))).toEqual({ facts: 2, ignored: 2 });
    expect(submitted[0]!.whatsapp.map((f) => [f.messageId, f.workspaceId])).toEqual([
      ['wamid.0', '7'],
      ['wamid.3', '7'],
    ]);
    expect(ignored).toEqual({ unknown_phone_number: 2 });
  });

  it('caches bindings and their absence for the TTL (one lookup of each number), then looks again', async () => {
    const { service, bindings, lookups } = setup(150);
    await service.receive(body(['111', '222']));
    await service.receive(body(['111', '222']));
    expect(lookups).toEqual([['111', '222']]);
    bindings.set('222', '8');
    expect(await service.receive(body(['222']))).toEqual({ facts: 0, ignored: 1 }); // still cached as unbound
    await new Promise((r) => setTimeout(r, 200));
    expect(await service.receive(body(['222']))).toEqual({ facts: 1, ignored: 0 });
  });
});
