import type { CampaignStats, FailureReasonCount } from '../domain/campaign-stats';
import { campaignStats, sortFailureReasons } from '../domain/campaign-stats';
import type { CampaignStatus } from '../domain/campaign-status';
import { acceptsContacts, planStatusMove } from '../domain/campaign-status';
import { badInput, campaignNotFound } from '../domain/errors';
import { isCampaignId, newCampaignId, normalizeContacts } from '../domain/identifiers';
import type { CampaignCursor, CampaignStore, CampaignWithCounters, TimelineRow } from '../store/campaign.store';
import type { ChangeFeed } from '../store/change-feed';
import { PostgresChangeFeed } from '../store/change-feed';

/** Contacts accepted in one create or add call, at most. @default 100000 */
export const MAX_CONTACTS_PER_CALL = 100_000;
/** Campaigns in one page, at most. @default 100 */
export const MAX_PAGE_SIZE = 100;
/** Buckets one timeline answer holds, at most (a week of minutes). @default 10080 */
export const MAX_TIMELINE_BUCKETS = 10_080;
const MAX_NAME_LENGTH = 200;
const SHOWN_INVALID = 20;

export interface CampaignPage {
  records: CampaignWithCounters[];
  hasNextPage: boolean;
}

function checkCampaignId(id: string): void {
  if (!isCampaignId(id)) throw badInput('Invalid campaign_id');
}

function checkedContacts(contacts: readonly unknown[]): string[] {
  if (contacts.length > MAX_CONTACTS_PER_CALL) {
    throw badInput(`At most ${MAX_CONTACTS_PER_CALL} contacts per call`);
  }
  const { valid, invalid } = normalizeContacts(contacts);
  if (invalid.length > 0) {
    const shown = invalid
      .slice(0, SHOWN_INVALID)
      .map((v) => JSON.stringify(v))
      .join(', ');
    const more = invalid.length > SHOWN_INVALID ? ` and ${invalid.length - SHOWN_INVALID} more` : '';
    throw badInput(`Contacts must be E.164 numbers (+ and 8 to 15 digits); invalid: ${shown}${more}`);
  }
  return valid;
}

export function encodeCursor(cursor: CampaignCursor): string {
  return Buffer.from(`${cursor.createdAt.toISOString()}|${cursor.id}`).toString('base64url');
}

export function decodeCursor(value: string): CampaignCursor {
  const [time, id, extra] = Buffer.from(value, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(time ?? '');
  if (extra !== undefined || !isCampaignId(id) || Number.isNaN(createdAt.getTime())) throw badInput('Invalid cursor');
  return { createdAt, id };
}

/** Campaigns of one workspace: creation, contacts, lifecycle moves and stats reads. */
export class CampaignsService {
  constructor(
    private readonly store: CampaignStore,
    private readonly feed: ChangeFeed = new PostgresChangeFeed(),
  ) {}

  async create(
    workspaceId: string,
    input: { name: string; contacts: readonly unknown[]; scheduledAt?: Date | null; id?: string },
  ): Promise<CampaignWithCounters> {
    const name = input.name.trim();
    if (name.length === 0 || name.length > MAX_NAME_LENGTH) {
      throw badInput(`name must be 1 to ${MAX_NAME_LENGTH} characters`);
    }
    const contacts = checkedContacts(input.contacts);
    const scheduledAt = input.scheduledAt ?? null;
    const id = input.id ?? newCampaignId(); // a given id: the embedded demo's reference campaign
    await this.store.transaction(async (tx) => {
      await this.store.insertCampaign(tx, {
        id,
        workspaceId,
        name,
        status: scheduledAt ? 'scheduled' : 'draft',
        scheduledAt,
      });
      await this.store.insertContacts(tx, id, contacts);
    });
    return this.record(workspaceId, id);
  }

  async addContacts(
    workspaceId: string,
    campaignId: string,
    contacts: readonly unknown[],
  ): Promise<CampaignWithCounters> {
    checkCampaignId(campaignId);
    const phones = checkedContacts(contacts);
    await this.store.transaction(async (tx) => {
      const status = await this.store.lockStatus(tx, workspaceId, campaignId);
      if (!status) throw campaignNotFound();
      if (!acceptsContacts(status)) throw badInput(`Cannot add contacts to a ${status} campaign`);
      const inserted = await this.store.insertContacts(tx, campaignId, phones);
      if (inserted > 0) await this.feed.announce(tx, [campaignId]);
      return inserted;
    });
    return this.record(workspaceId, campaignId);
  }

  /** A lifecycle move (docs/lifecycle.md); a refused move throws BAD_USER_INPUT and changes nothing. */
  async move(
    workspaceId: string,
    campaignId: string,
    to: CampaignStatus,
    options: { at?: Date; reason?: string | null } = {},
  ): Promise<CampaignWithCounters> {
    checkCampaignId(campaignId);
    await this.store.transaction(async (tx) => {
      const from = await this.store.lockStatus(tx, workspaceId, campaignId);
      if (!from) throw campaignNotFound();
      const times = planStatusMove(from, to, new Date(), options.at);
      await this.store.updateStatus(tx, campaignId, to, times, to === 'failed' ? (options.reason ?? null) : undefined);
      await this.feed.announce(tx, [campaignId]);
    });
    return this.record(workspaceId, campaignId);
  }

  /** The stored record; NOT_FOUND when missing or another workspace's, BAD_USER_INPUT for a bad id. */
  async record(workspaceId: string, campaignId: string): Promise<CampaignWithCounters> {
    checkCampaignId(campaignId);
    const record = await this.store.findRecord(workspaceId, campaignId);
    if (!record) throw campaignNotFound();
    return record;
  }

  /** Like {@link record}, but null for a well-formed id that is missing or another workspace's. */
  async findRecord(workspaceId: string, campaignId: string): Promise<CampaignWithCounters | null> {
    checkCampaignId(campaignId);
    return this.store.findRecord(workspaceId, campaignId);
  }

  async stats(workspaceId: string, campaignId: string): Promise<CampaignStats> {
    return campaignStats(await this.record(workspaceId, campaignId));
  }

  async page(
    workspaceId: string,
    options: { status?: CampaignStatus; first: number; after?: string | null },
  ): Promise<CampaignPage> {
    if (!Number.isInteger(options.first) || options.first < 0 || options.first > MAX_PAGE_SIZE) {
      throw badInput(`first must be between 0 and ${MAX_PAGE_SIZE}`);
    }
    const after = options.after ? decodeCursor(options.after) : undefined;
    const rows = await this.store.listRecords(workspaceId, {
      ...(options.status ? { status: options.status } : {}),
      ...(after ? { after } : {}),
      limit: options.first + 1,
    });
    return { records: rows.slice(0, options.first), hasNextPage: rows.length > options.first };
  }

  /**
   * The rollout over time (see {@link CampaignStore.timeline}); NOT_FOUND for another workspace's
   * campaign, BAD_USER_INPUT for `from` after `to`.
   */
  async timeline(
    workspaceId: string,
    campaignId: string,
    bucket: 'minute' | 'hour',
    range: { from: Date | null; to: Date | null },
  ): Promise<TimelineRow[]> {
    await this.record(workspaceId, campaignId);
    if (range.from && range.to && range.from > range.to) throw badInput('from must not be after to');
    return this.store.timeline(campaignId, bucket, range, MAX_TIMELINE_BUCKETS);
  }

  /** Failure reasons of many campaigns in one query, most frequent first. */
  async failureReasons(campaignIds: readonly string[]): Promise<FailureReasonCount[][]> {
    const byCampaign = await this.store.failureReasons(campaignIds);
    return campaignIds.map((id) => sortFailureReasons(byCampaign.get(id) ?? []));
  }
}
