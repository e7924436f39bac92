import type { DataSource } from 'typeorm';
import { evidenceOfEventType } from '../domain/delivery-event';
import type { ItemProblem } from '../domain/errors';
import { DomainError, notFound } from '../domain/errors';
import type { CampaignStore } from '../store/campaign.store';
import type { ContactRef, DeliveryStore } from '../store/delivery.store';
import type { ResolvedFact } from './delivery-applier';
import { applyResolvedFacts } from './delivery-applier';
import type { DispatcherEvent } from './dispatcher-event.parser';

/** Told the ids of campaigns whose numbers moved, after the commit that moved them. */
export type StatsChangedListener = (campaignIds: readonly string[]) => void;

export interface IngestResult {
  accepted: number;
  /** events skipped because their id was applied before */
  duplicates: number;
  changedCampaigns: string[];
}

const pairKey = (campaignId: string, phone: string) => `${campaignId}|${phone}`;

/**
 * Applies a validated batch of dispatcher events in one transaction, or refuses it whole:
 * NOT_FOUND for a campaign that is missing or another workspace's, UNPROCESSABLE for a contact
 * not in its campaign, an unregistered message id, or a message id registered to another contact.
 */
export class DispatcherEventsService {
  constructor(
    private readonly db: DataSource,
    private readonly campaigns: CampaignStore,
    private readonly deliveries: DeliveryStore,
    private readonly onStatsChanged: StatsChangedListener = () => {},
  ) {}

  async ingest(workspaceId: string, events: readonly DispatcherEvent[]): Promise<IngestResult> {
    const result = await this.db.transaction(async (tx) => {
      const campaignIds = [...new Set(events.flatMap((e) => (e.campaignId ? [e.campaignId] : [])))];
      const owned = await this.campaigns.ownedCampaignIds(tx, workspaceId, campaignIds);
      const missing: ItemProblem[] = [];
      for (const e of events) {
        if (e.campaignId && !owned.has(e.campaignId)) missing.push({ index: e.index, reason: 'campaign not found' });
      }
      if (missing.length > 0) throw notFound('Campaign not found', missing);

      const byPair = await this.deliveries.contactsByPhone(
        tx,
        events.flatMap((e) => (e.campaignId && e.contact ? [{ campaignId: e.campaignId, phone: e.contact }] : [])),
      );
      const byMessage = await this.deliveries.contactsByMessageId(
        tx,
        workspaceId,
        events.flatMap((e) => (e.campaignId ? [] : [e.messageId!])),
      );
      const problems: ItemProblem[] = [];
      const resolved: { event: DispatcherEvent; contact: ContactRef }[] = [];
      for (const e of events) {
        const contact = e.campaignId ? byPair.get(pairKey(e.campaignId, e.contact!)) : byMessage.get(e.messageId!);
        if (contact) resolved.push({ event: e, contact });
        else if (e.campaignId)
          problems.push({ index: e.index, reason: `contact ${e.contact} is not in campaign ${e.campaignId}` });
        else problems.push({ index: e.index, reason: `message_id ${e.messageId} is not registered` });
      }
      if (problems.length > 0) throw new DomainError('UNPROCESSABLE', 'Contact not in campaign', problems);

      const registrations = resolved.flatMap(({ event, contact }) =>
        event.type === 'message.sent' && event.campaignId && event.messageId
          ? [{ messageId: event.messageId, contact, index: event.index }]
          : [],
      );
      const conflicts = new Set(await this.deliveries.registerMessageIds(tx, registrations));
      const ownerInBatch = new Map<string, string>();
      for (const r of registrations) {
        const owner = ownerInBatch.get(r.messageId) ?? r.contact.contactId;
        ownerInBatch.set(r.messageId, owner);
        if (conflicts.has(r.messageId) || owner !== r.contact.contactId) {
          problems.push({ index: r.index, reason: `message_id ${r.messageId} is registered to another contact` });
        }
      }
      if (problems.length > 0)
        throw new DomainError('UNPROCESSABLE', 'message_id registered to another contact', problems);

      const ids = resolved.flatMap(({ event }) => (event.id ? [event.id] : []));
      const fresh = await this.deliveries.claimEventIds(tx, workspaceId, ids);
      const facts: ResolvedFact[] = [];
      let duplicates = 0;
      for (const { event, contact } of resolved) {
        if (event.id !== null) {
          if (!fresh.has(event.id)) {
            duplicates++;
            continue;
          }
          fresh.delete(event.id); // a second copy in the same batch is a duplicate too
        }
        facts.push({
          contact,
          fact: {
            evidence: evidenceOfEventType(event.type),
            at: event.at,
            ...(event.error ? { error: event.error } : {}),
          },
        });
      }
      const changedCampaigns = await applyResolvedFacts(tx, this.deliveries, facts);
      return { accepted: events.length, duplicates, changedCampaigns };
    });
    if (result.changedCampaigns.length > 0) this.onStatsChanged(result.changedCampaigns);
    return result;
  }
}
