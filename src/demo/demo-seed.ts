import type { App } from '../app';
import type { Logger } from '../logger';
import { referenceCampaign } from './reference-campaign';
import { parseDispatcherEvents } from '../ingest/dispatcher-event.parser';
import type { WorkspaceStore } from '../store/workspace.store';

/** The reference campaign's id on the embedded demo: the id the README's examples use. */
export const DEMO_CAMPAIGN_ID = '507f1f77bcf86cd799439060';

/**
 * On the very first start (no workspace yet): a `demo` workspace, a key for it, and the reference
 * campaign fed its events, so a newcomer has something to query at once.
 */
export async function seedDemoOnFirstStart(
  app: App,
  workspaces: WorkspaceStore,
  logger: Logger,
): Promise<{ key: string; campaignId: string } | null> {
  if ((await workspaces.countWorkspaces()) > 0) return null;
  const { key, workspaceId } = await app.services.keys.create('demo');
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
  logger.info('demo.seeded', { workspace: 'demo', campaignId: campaign.id });
  return { key, campaignId: campaign.id };
}
