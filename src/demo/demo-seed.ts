import type { App } from '../app';
import type { Logger } from '../logger';
import { referenceCampaign } from './reference-campaign';
import { parseDispatcherEvents } from '../ingest/dispatcher-event.parser';
import type { WorkspaceStore } from '../store/workspace.store';

/** The reference campaign's id on the embedded demo: the id the README's examples use. */
export const DEMO_CAMPAIGN_ID = '507f1f77bcf86cd799439060';

/** The business number of the README and docs/webhooks.md examples: the demo workspace's. */
export const DEMO_PHONE_NUMBER_ID = '106540352242922';

/** The URL of the demo campaign's tracked link (its URL button): the one the README's examples show. */
export const DEMO_LINK_URL = 'https://example.com/summer-sale';

/**
 * On the very first start (no workspace yet): a `demo` workspace, a key for it, and the reference
 * campaign fed its events with a tracked link for its URL button, and the example WhatsApp number bound to it, so a newcomer has
 * something to query at once and the signed webhook example of the docs works as written.
 */
export async function seedDemoOnFirstStart(
  app: App,
  workspaces: WorkspaceStore,
  logger: Logger,
): Promise<{ key: string; campaignId: string } | null> {
  if ((await workspaces.countWorkspaces()) > 0) return null;
  const { key, workspaceId } = await app.services.keys.create('demo');
  const { outcome } = await app.services.whatsAppNumbers.add(DEMO_PHONE_NUMBER_ID, 'demo');
  if (outcome === 'taken') logger.warn('demo.number_taken', { phoneNumberId: DEMO_PHONE_NUMBER_ID });
  const { contacts, events } = referenceCampaign();
  const campaign = await app.services.campaigns.create(workspaceId, {
    name: 'Summer Sale Blast',
    contacts,
    id: DEMO_CAMPAIGN_ID,
  });
  await app.services.campaigns.move(workspaceId, campaign.id, 'running');
  const parsed = parseDispatcherEvents({ events: events.map((e) => ({ ...e, campaign_id: campaign.id })) }, new Date());
  await app.services.dispatcherEvents.ingest(workspaceId, parsed);
  await app.services.campaigns.move(workspaceId, campaign.id, 'completed');
  // The URL button's tracked link: the reference clicks are seeded as events above (their numbers
  // are the reference example's), so the link itself starts with no clicks of its own.
  await app.services.trackedLinks.create(workspaceId, campaign.id, DEMO_LINK_URL);
  logger.info('demo.seeded', { workspace: 'demo', campaignId: campaign.id });
  return { key, campaignId: campaign.id };
}
