import type { CampaignsService } from '../campaigns/campaigns.service';
import type { CampaignStats, FailureReasonCount } from '../domain/campaign-stats';
import { campaignStats } from '../domain/campaign-stats';
import type { Logger } from '../logger';
import { LatestValueQueue } from './latest-value-queue';

/** What a subscriber receives: every stats field, failure reasons included. */
export type LiveStats = CampaignStats & { failureReasons: FailureReasonCount[] };

interface Subscriber {
  queue: LatestValueQueue<LiveStats>;
  /** the JSON of what it was last sent, so it never gets the same state twice */
  lastSent: string | null;
}

interface Watcher {
  workspaceId: string;
  subscribers: Set<Subscriber>;
  lastReadAt: number;
  timer: NodeJS.Timeout | null;
  reading: boolean;
  dirty: boolean;
  /** the last state read, shared by every subscriber */
  current: { stats: LiveStats; json: string } | null;
}

interface PendingRead {
  workspaceId: string;
  snapshot: Promise<{ stats: LiveStats; json: string }>;
  readers: number;
  changed: boolean;
}

export interface HubOptions {
  /** at most one push per campaign per interval @default 250 */
  intervalMs: number;
}

/**
 * Multiplexed live stats (as Hasura does): however many subscribers watch a campaign on this
 * instance, a change costs one stats read per push interval, shared by all of them. Changes are
 * coalesced: a burst gives one read at the end of the interval, and the last state is always sent.
 */
export class CampaignStatsHub {
  private readonly watchers = new Map<string, Watcher>();
  /**
   * Snapshot reads under way for new subscribers, by campaign. Subscribers arriving meanwhile (of
   * the same workspace) wait for that read instead of making their own: a burst of N subscribers
   * costs one read, not N queued in the pool. A change heard meanwhile may find no watcher to mark,
   * so it is kept here (`changed`): its readers' watcher reads again, and later subscribers no
   * longer join this read but start a fresh one.
   */
  private readonly pendingReads = new Map<string, PendingRead[]>();
  private closed = false;
  /** since start: stats reads made for pushes, and values pushed to subscribers */
  readonly totals = { reads: 0, pushes: 0 };

  constructor(
    private readonly campaigns: CampaignsService,
    private readonly options: HubOptions,
    private readonly logger: Logger,
  ) {}

  get subscriberCount(): number {
    let n = 0;
    for (const w of this.watchers.values()) n += w.subscribers.size;
    return n;
  }

  get watchedCampaigns(): string[] {
    return [...this.watchers.keys()];
  }

  /**
   * The campaign's stats now, then again whenever they change. Throws BAD_USER_INPUT for a
   * malformed id and NOT_FOUND for a missing or another workspace's campaign, before anything is sent.
   */
  async subscribe(workspaceId: string, campaignId: string): Promise<AsyncIterableIterator<LiveStats>> {
    let watcher = this.watchers.get(campaignId);
    let snapshot: { stats: LiveStats; json: string };
    let ownRead = false;
    let missedChange = false;
    if (watcher && watcher.workspaceId === workspaceId && watcher.current && !watcher.dirty && !watcher.reading) {
      // Up to date already: the new subscriber shares it (no read, no copy).
      snapshot = watcher.current;
    } else {
      ownRead = true;
      const reads = this.pendingReads.get(campaignId) ?? [];
      let pending = reads.find((r) => r.workspaceId === workspaceId && !r.changed);
      if (!pending) {
        // Also what answers NOT_FOUND for another workspace's campaign.
        const snapshotRead = this.read(workspaceId, campaignId).then((stats) => ({
          stats,
          json: JSON.stringify(stats),
        }));
        pending = { workspaceId, snapshot: snapshotRead, readers: 0, changed: false };
        reads.push(pending);
        this.pendingReads.set(campaignId, reads);
      }
      pending.readers++;
      try {
        snapshot = await pending.snapshot;
      } finally {
        if (--pending.readers === 0) this.forgetRead(campaignId, pending);
      }
      missedChange = pending.changed;
    }
    if (this.closed) throw new Error('live stats are shutting down');
    watcher = this.watchers.get(campaignId);
    if (!watcher) {
      watcher = {
        workspaceId,
        subscribers: new Set(),
        lastReadAt: 0,
        timer: null,
        reading: false,
        dirty: false,
        current: snapshot,
      };
      this.watchers.set(campaignId, watcher);
    }
    const subscriber: Subscriber = {
      queue: new LatestValueQueue<LiveStats>(() => this.unsubscribe(campaignId, subscriber)),
      lastSent: null,
    };
    watcher.subscribers.add(subscriber);
    this.send(subscriber, snapshot.stats, snapshot.json);
    // Its own read may have begun before a change that the watcher has since read and pushed to
    // the subscribers it had then (not this one): when the two differ, read once more for all.
    if (missedChange || (ownRead && watcher.current && watcher.current.json !== snapshot.json)) {
      watcher.dirty = true;
      this.schedule(campaignId, watcher);
    }
    return subscriber.queue;
  }

  /** Campaigns whose numbers changed (from any instance): each gets one read within an interval. */
  changed(campaignIds: Iterable<string>): void {
    for (const id of campaignIds) {
      for (const pending of this.pendingReads.get(id) ?? []) pending.changed = true;
      const watcher = this.watchers.get(id);
      if (!watcher) continue;
      watcher.dirty = true;
      this.schedule(id, watcher);
    }
  }

  /** Re-reads every watched campaign: after the change feed was down, something may have been missed. */
  refreshAll(): void {
    // Reads under way too: one begun before the gap may hold a state the gap changed.
    this.changed(new Set([...this.watchers.keys(), ...this.pendingReads.keys()]));
  }

  /** Completes every subscription. */
  close(): void {
    this.closed = true;
    for (const watcher of this.watchers.values()) {
      if (watcher.timer) clearTimeout(watcher.timer);
      for (const subscriber of [...watcher.subscribers]) subscriber.queue.close();
    }
    this.watchers.clear();
  }

  private forgetRead(campaignId: string, pending: PendingRead): void {
    const reads = this.pendingReads.get(campaignId);
    if (!reads) return;
    const left = reads.filter((r) => r !== pending);
    if (left.length > 0) this.pendingReads.set(campaignId, left);
    else this.pendingReads.delete(campaignId);
  }

  private unsubscribe(campaignId: string, subscriber: Subscriber): void {
    const watcher = this.watchers.get(campaignId);
    if (!watcher) return;
    watcher.subscribers.delete(subscriber);
    if (watcher.subscribers.size === 0) {
      if (watcher.timer) clearTimeout(watcher.timer);
      this.watchers.delete(campaignId);
    }
  }

  private schedule(campaignId: string, watcher: Watcher): void {
    if (watcher.timer || watcher.reading || this.closed) return;
    const wait = Math.max(0, watcher.lastReadAt + this.options.intervalMs - Date.now());
    watcher.timer = setTimeout(() => void this.flush(campaignId, watcher), wait);
  }

  private async flush(campaignId: string, watcher: Watcher): Promise<void> {
    watcher.timer = null;
    watcher.dirty = false;
    watcher.reading = true;
    watcher.lastReadAt = Date.now();
    try {
      const stats = await this.read(watcher.workspaceId, campaignId);
      this.totals.reads++;
      const json = JSON.stringify(stats);
      watcher.current = { stats, json };
      for (const subscriber of watcher.subscribers) this.send(subscriber, stats, json);
    } catch (error) {
      // Not lost: the campaign stays dirty and is read again after the interval.
      this.logger.warn('live.read_failed', { campaignId, error });
      watcher.dirty = true;
    } finally {
      watcher.reading = false;
    }
    if (watcher.dirty && this.watchers.get(campaignId) === watcher) this.schedule(campaignId, watcher);
  }

  private send(subscriber: Subscriber, stats: LiveStats, json: string): void {
    if (subscriber.lastSent === json) return;
    subscriber.lastSent = json;
    subscriber.queue.push(stats);
    this.totals.pushes++;
  }

  private async read(workspaceId: string, campaignId: string): Promise<LiveStats> {
    const record = await this.campaigns.record(workspaceId, campaignId);
    const [failureReasons] = await this.campaigns.failureReasons([campaignId]);
    return { ...campaignStats(record), failureReasons: failureReasons ?? [] };
  }
}
