import type { ContactState } from '../domain/contact-state';
import { CampaignChange, contactChange, joinFact, sameContactState } from '../domain/contact-state';
import type { DeliveryFact } from '../domain/delivery-event';
import { isZeroDelta } from '../domain/delivery-lattice';
import type { Queryable } from '../store/campaign.store';
import type { ContactRef, DeliveryStore } from '../store/delivery.store';
import { startCampaignsOnFirstEvent } from '../store/campaign-autostart';

/**
 * Contacts in a batch (statuses, on the webhook path, from its snapshot on) from which its lock
 * and write are planned on keys ({@link DeliveryStore.preferKeyedPlans}). Fewer are planned on
 * keys anyway (below about 90 in a campaign of 20,000), and the setting would cost them a round trip. Measured at 100 statuses a
 * request (batches of about 400), in paired runs of that phase alone: 17,200–18,100 statuses/s
 * with it, 12,400–13,900 without; at 1 a request no difference.
 */
export const KEYED_PLANS_FROM = 100;

/** One fact about one resolved contact. */
export interface ResolvedFact {
  contact: ContactRef;
  fact: DeliveryFact;
}

/**
 * Applies facts inside the caller's transaction: locks the contacts they name, joins the facts in
 * (pure lattice code), writes back only what changed, and moves each campaign's counters once.
 * Returns the ids of campaigns whose numbers moved.
 */
export async function applyResolvedFacts(
  tx: Queryable,
  store: DeliveryStore,
  facts: readonly ResolvedFact[],
  options: { /** the caller planned its transaction on keys already */ keyedPlans?: boolean } = {},
): Promise<string[]> {
  if (facts.length === 0) return [];
  // before any contact is locked: campaigns, then contacts, then counters (DESIGN section 2)
  const started = await startCampaignsOnFirstEvent(tx, facts);
  const byContact = new Map<string, { campaignId: string; facts: DeliveryFact[] }>();
  for (const { contact, fact } of facts) {
    const entry = byContact.get(contact.contactId);
    if (entry) entry.facts.push(fact);
    else byContact.set(contact.contactId, { campaignId: contact.campaignId, facts: [fact] });
  }
  // From here to the commit every statement goes by key: plan it so (see KEYED_PLANS_FROM).
  if (byContact.size >= KEYED_PLANS_FROM && !options.keyedPlans) await store.preferKeyedPlans(tx);
  const before = await store.lockContacts(
    tx,
    [...byContact].map(([contactId, { campaignId }]) => ({ contactId, campaignId })),
  );
  const changedStates = new Map<string, { campaignId: string; state: ContactState }>();
  const changes = new Map<string, CampaignChange>();
  for (const [contactId, { campaignId, facts: contactFacts }] of byContact) {
    const prior = before.get(contactId);
    if (!prior) continue; // cannot happen: contacts are never deleted while their campaign exists
    const after = contactFacts.reduce(joinFact, prior);
    if (sameContactState(prior, after)) continue;
    changedStates.set(contactId, { campaignId, state: after });
    const change = contactChange(prior, after);
    if (isZeroDelta(change.counters) && change.failureReasons.size === 0) continue;
    let campaign = changes.get(campaignId);
    if (!campaign) changes.set(campaignId, (campaign = new CampaignChange()));
    campaign.add(change);
  }
  await store.writeContacts(tx, changedStates);
  await store.applyCampaignChanges(tx, changes);
  return [...new Set([...changes.keys(), ...started])];
}
