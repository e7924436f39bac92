import type { DataSource } from 'typeorm';
import type { IngestMetrics } from './ingest-metrics';
import { NO_INGEST_METRICS } from './ingest-metrics';
import { evidenceOfEventType } from '../domain/delivery-event';
import type { ItemProblem } from '../domain/errors';
import { DomainError, notFound } from '../domain/errors';
import type { CampaignStore } from '../store/campaign.store';
import type { ContactRef, DeliveryStore } from '../store/delivery.store';
import type { DeliveryPipeline, DeliveryWork } from './delivery-pipeline';
import type { DispatcherEvent } from './dispatcher-event.parser';

const pairKey = (campaignId: string, phone: string) => `${campaignId}|${phone}`;

/**
 * Checks a parsed batch of dispatcher events against the database and hands it to the pipeline
 * whole, or refuses it whole: NOT_FOUND for a campaign that is missing or another workspace's,
 * UNPROCESSABLE for a contact not in its campaign, an unregistered message id, or a message id
 * registered to another contact. What the checks read (campaigns, contacts, registrations) is
 * never deleted or reassigned, so checking before the transaction is as good as inside it.
 */
export class DispatcherEventsService {
  constructor(
    private readonly db: DataSource,
    private readonly campaigns: CampaignStore,
    private readonly deliveries: DeliveryStore,
    private readonly pipeline: DeliveryPipeline,
    private readonly metrics: IngestMetrics = NO_INGEST_METRICS,
  ) {}

  /** Resolves after the commit; returns how many events were accepted. */
  async ingest(workspaceId: string, events: readonly DispatcherEvent[]): Promise<{ accepted: number }> {
    await this.pipeline.submit(await this.resolve(workspaceId, events));
    for (const e of events) this.metrics.accepted('dispatcher', evidenceOfEventType(e.type));
    return { accepted: events.length };
  }

  private async resolve(workspaceId: string, events: readonly DispatcherEvent[]): Promise<DeliveryWork> {
    const campaignIds = [...new Set(events.flatMap((e) => (e.campaignId ? [e.campaignId] : [])))];
    const owned = await this.campaigns.ownedCampaignIds(this.db, workspaceId, campaignIds);
    const missing: ItemProblem[] = events.flatMap((e) =>
      e.campaignId && !owned.has(e.campaignId) ? [{ index: e.index, reason: 'campaign not found' }] : [],
    );
    if (missing.length > 0) throw notFound('Campaign not found', missing);

    const byPair = await this.deliveries.contactsByPhone(
      this.db,
      events.flatMap((e) => (e.campaignId && e.contact ? [{ campaignId: e.campaignId, phone: e.contact }] : [])),
    );
    // Registrations in this request name contacts for its other events, whatever their order.
    const registering = new Map<string, { contact: ContactRef; index: number }>();
    const problems: ItemProblem[] = [];
    for (const e of events) {
      if (e.type !== 'message.sent' || !e.campaignId || !e.messageId) continue;
      const contact = byPair.get(pairKey(e.campaignId, e.contact!));
      if (!contact) continue;
      const prior = registering.get(e.messageId);
      if (prior && prior.contact.contactId !== contact.contactId) {
        problems.push({ index: e.index, reason: `message_id ${e.messageId} is registered to another contact` });
      } else registering.set(e.messageId, { contact, index: e.index });
    }
    const messageIds = [
      ...new Set([...registering.keys(), ...events.flatMap((e) => (e.campaignId ? [] : [e.messageId!]))]),
    ];
    const registered = await this.deliveries.contactsByMessageId(this.db, messageIds);
    for (const [messageId, { contact, index }] of registering) {
      const owner = registered.get(messageId);
      if (owner && owner.contactId !== contact.contactId) {
        problems.push({ index, reason: `message_id ${messageId} is registered to another contact` });
      }
    }

    // Message ids alone may only name contacts of this workspace's campaigns.
    const foreign = [...new Set([...registered.values()].map((c) => c.campaignId))].filter((id) => !owned.has(id));
    for (const id of await this.campaigns.ownedCampaignIds(this.db, workspaceId, foreign)) owned.add(id);

    const work: DeliveryWork = { registrations: [], facts: [], whatsapp: [] };
    for (const e of events) {
      let contact: ContactRef | undefined;
      if (e.campaignId) {
        contact = byPair.get(pairKey(e.campaignId, e.contact!));
        if (!contact)
          problems.push({ index: e.index, reason: `contact ${e.contact} is not in campaign ${e.campaignId}` });
      } else {
        const owner = registering.get(e.messageId!)?.contact ?? registered.get(e.messageId!);
        // Another workspace's registration is answered exactly as no registration.
        contact = owner && owned.has(owner.campaignId) ? owner : undefined;
        if (!contact) problems.push({ index: e.index, reason: `message_id ${e.messageId} is not registered` });
      }
      if (!contact) continue;
      work.facts.push({
        contact,
        fact: { evidence: evidenceOfEventType(e.type), at: e.at, ...(e.error ? { error: e.error } : {}) },
        ...(e.id ? { claim: { workspaceId, eventId: e.id } } : {}),
      });
    }
    if (problems.length > 0) {
      problems.sort((a, b) => a.index - b.index);
      throw new DomainError('UNPROCESSABLE', `${problems.length} event(s) name no contact they can change`, problems);
    }
    for (const [messageId, { contact }] of registering) work.registrations.push({ messageId, contact });
    return work;
  }
}
