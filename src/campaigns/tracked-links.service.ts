import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { LRUCache } from 'lru-cache';
import { badInput, notFound } from '../domain/errors';
import { isCampaignId, newCampaignId } from '../domain/identifiers';
import { clickToken, isPreviewAgent, tokenIsGenuine, tokenParts, trackedUrlProblem } from '../domain/tracked-link';
import type { ContactsExportStore } from '../store/contacts-export.store';
import type { LinkClick, TrackedLinkRow, TrackedLinkWithClicks, TrackedLinksStore } from '../store/tracked-links.store';
import type { CampaignContactsService } from './campaign-contacts.service';
import type { ContactsExportService } from './contacts-export.service';

/** Commits one CLICKED fact for a contact through the ingest pipeline; resolves once committed. */
export type SubmitClick = (contact: { contactId: string; campaignId: string }, at: Date) => Promise<void>;

/** What a visit to `/r/{token}` comes to. */
export type ClickOutcome =
  { kind: 'unknown' } | { kind: 'counted' | 'not_counted' | 'lost'; url: string; error?: unknown };

const linkNotFound = () => notFound('Link not found');

/** Records link clicks in groups: the clicks that arrive together share one statement. */
class ClickRecorder {
  private pending: { click: LinkClick; done: (error?: unknown) => void }[] = [];
  private flushing = false;

  constructor(private readonly store: TrackedLinksStore) {}

  record(click: LinkClick): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({
        click,
        done: (error) =>
          error === undefined
            ? resolve()
            : reject(error instanceof Error ? error : new Error('click not recorded', { cause: error })),
      });
      if (!this.flushing) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.pending.length === 0) return;
    this.flushing = true;
    const batch = this.pending.splice(0);
    try {
      await this.store.recordClicks(batch.map((p) => p.click));
      for (const p of batch) p.done();
    } catch (error) {
      for (const p of batch) p.done(error ?? new Error('click not recorded'));
    } finally {
      this.flushing = false;
      if (this.pending.length > 0) setImmediate(() => void this.flush());
    }
  }
}

/** Tracked links for URL buttons (docs/rest.md#tracked-links). */
export class TrackedLinksService {
  /** links by id; null for ids known not to exist (briefly). Rows never change, so this is never stale. */
  private readonly links = new LRUCache<string, TrackedLinkRow | { missing: true }>({ max: 10_000, ttl: 0 });
  private readonly recorder: ClickRecorder;

  constructor(
    private readonly store: TrackedLinksStore,
    private readonly contacts: CampaignContactsService,
    private readonly exports: ContactsExportService,
    private readonly exportStore: ContactsExportStore,
    private readonly submitClick: SubmitClick,
  ) {
    this.recorder = new ClickRecorder(store);
  }

  /** A new link for the campaign; BAD_USER_INPUT for a URL that is not http(s), NOT_FOUND for another workspace's campaign. */
  async create(workspaceId: string, campaignId: string, url: string): Promise<TrackedLinkWithClicks> {
    await this.contacts.checkCampaign(workspaceId, campaignId);
    const problem = trackedUrlProblem(url);
    if (problem) throw badInput(problem);
    const link: TrackedLinkRow = { id: newCampaignId(), workspaceId, campaignId, url, secret: randomBytes(32) };
    await this.store.insert(link);
    this.links.set(link.id, link);
    return { id: link.id, campaignId, url, clicks: 0 };
  }

  /** The campaign's links with their clicks, oldest first. */
  async list(workspaceId: string, campaignId: string): Promise<TrackedLinkWithClicks[]> {
    await this.contacts.checkCampaign(workspaceId, campaignId);
    return this.store.list(workspaceId, campaignId);
  }

  /**
   * `phone,url` for every contact of the campaign, by phone: each URL `<publicUrl>/r/<token>`.
   * Streamed like an export, and counted in the workspace's exports in flight.
   */
  async urlsCsv(workspaceId: string, campaignId: string, linkId: string, publicUrl: string): Promise<Readable> {
    await this.contacts.checkCampaign(workspaceId, campaignId);
    if (!isCampaignId(linkId)) throw badInput('Invalid link_id');
    if ((await this.store.list(workspaceId, campaignId, linkId)).length === 0) throw linkNotFound();
    const link = await this.link(linkId);
    if (!link) throw linkNotFound();
    return this.exports.limited(workspaceId, () =>
      this.exportStore.stream<{ id: string; phone: string }>(
        `SELECT id::text AS id, phone FROM campaign_contacts WHERE campaign_id = $1 ORDER BY phone`,
        [campaignId],
        'phone,url',
        (row) => `${row.phone},${publicUrl}/r/${clickToken(link.secret, link.id, row.id)}`,
      ),
    );
  }

  /**
   * A visit to a contact's link. A genuine token of a known link gives its URL; the visit is
   * counted (a CLICKED fact through the pipeline, and the contact in the link's clicks) unless it
   * is a HEAD or a link-preview fetcher. When the click cannot be committed, the URL is still
   * given and the outcome says the click was lost. Throws only when the link cannot be looked up.
   */
  async click(token: string, visit: { head: boolean; userAgent: string | undefined }): Promise<ClickOutcome> {
    const parts = tokenParts(token);
    if (!parts) return { kind: 'unknown' };
    const link = await this.link(parts.linkId);
    if (!link || !tokenIsGenuine(token, link.secret)) return { kind: 'unknown' };
    if (visit.head || isPreviewAgent(visit.userAgent)) return { kind: 'not_counted', url: link.url };
    const at = new Date();
    try {
      await Promise.all([
        this.submitClick({ contactId: parts.contactId, campaignId: link.campaignId }, at),
        this.recorder.record({ campaignId: link.campaignId, linkId: link.id, contactId: parts.contactId, at }),
      ]);
      return { kind: 'counted', url: link.url };
    } catch (error) {
      return { kind: 'lost', url: link.url, error };
    }
  }

  private async link(linkId: string): Promise<TrackedLinkRow | null> {
    const cached = this.links.get(linkId);
    if (cached) return 'missing' in cached ? null : cached;
    const found = await this.store.find(linkId);
    this.links.set(linkId, found ?? { missing: true }, found ? {} : { ttl: 60_000 });
    return found;
  }
}
