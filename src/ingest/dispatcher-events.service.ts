import type { DataSource } from 'typeorm';
import type { IngestMetrics } from './ingest-metrics';
import { NO_INGEST_METRICS } from './ingest-metrics';
import { evidenceOfEventType } from '../domain/delivery-event';
import type { ItemProblem } from '../domain/errors';
import { DomainError, notFound } from '../domain/errors';
import type { CampaignStore } from '../store/campaign.store';
import type { ContactRef, DeliveryStore } from '../store/delivery.store';
import { messageKey, phoneKey } from '../store/delivery.store';
import type { DeliveryPipeline, DeliveryWork } from './delivery-pipeline';
import type { DispatcherEvent } from './dispatcher-event.parser';

/**
 * Checks a parsed batch of dispatcher events against the database and hands it to the pipeline
 * whole, or refuses it whole: NOT_FOUND for a campaign that is missing or another workspace's,
 * UNPROCESSABLE for a contact not in its campaign, an unregistered message id, or a message id
 * registered to another contact of this workspace (another workspace's registrations are not
 * seen: message ids are per workspace). What the checks read is never deleted or reassigned; a
 * registration that a concurrent request makes between this check and the commit is caught in
 * the transaction and refused with the same 422.
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
      events.flatMap((e) =>
        e.campaignId && e.contact ? [{ workspaceId, campaignId: e.campaignId, phone: e.contact }] : [],
      ),
    );
    // Registrations in this request name contacts for its other events, whatever their order.
    const registering = new Map<string, { contact: ContactRef; index: number }>();
    const problems: ItemProblem[] = [];
    for (const e of events) {
      if (e.type !== 'message.sent' || !e.campaignId || !e.messageId) continue;
      const contact = byPair.get(phoneKey(workspaceId, e.campaignId, e.contact!));
      if (!contact) continue;
      const prior = registering.get(e.messageId);
      if (prior && prior.contact.contactId !== contact.contactId) {
        problems.push({ index: e.index, reason: `message_id ${e.messageId} is registered to another contact` });
      } else registering.set(e.messageId, { contact, index: e.index });
    }
    const messageIds = [
      ...new Set([...registering.keys(), ...events.flatMap((e) => (e.campaignId ? [] : [e.messageId!]))]),
    ];
    // Only this workspace's registrations: another workspace's id is answered as a fresh one.
    const registered = await this.deliveries.contactsByMessageId(
      this.db,
      messageIds.map((messageId) => ({ workspaceId, messageId })),
    );
    for (const [messageId, { contact, index }] of registering) {
      const owner = registered.get(messageKey(workspaceId, messageId));
      if (owner && owner.contactId !== contact.contactId) {
        problems.push({ index, reason: `message_id ${messageId} is registered to another contact` });
      }
    }

    const work: DeliveryWork = { registrations: [], facts: [], whatsapp: [] };
    for (const e of events) {
      let contact: ContactRef | undefined;
      if (e.campaignId) {
        contact = byPair.get(phoneKey(workspaceId, e.campaignId, e.contact!));
        if (!contact)
          problems.push({ index: e.index, reason: `contact ${e.contact} is not in campaign ${e.campaignId}` });
      } else {
        contact = registering.get(e.messageId!)?.contact ?? registered.get(messageKey(workspaceId, e.messageId!));
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
    for (const [messageId, { contact, index }] of registering) {
      work.registrations.push({ workspaceId, messageId, contact, index });
    }
    return work;
  }
}
