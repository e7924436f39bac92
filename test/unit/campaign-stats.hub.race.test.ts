import type { CampaignsService } from '../../src/campaigns/campaigns.service';
import { CampaignStatsHub } from '../../src/live/campaign-stats.hub';
import { createLogger } from '../../src/logger';

const ID = '6b0ccb639ba6f261b8116617';

/** A campaigns service whose reads answer the current count, each read released by the test. */
class ControlledReads {
  read = 0;
  readonly pending: { resolve: () => void; read: number }[] = [];

  service(): CampaignsService {
    return {
      record: (_workspaceId: string, id: string) => {
        const read = this.read; // the snapshot is taken when the read begins
        return new Promise((resolve) => {
          this.pending.push({
            read,
            resolve: () =>
              resolve({
                id,
                name: 'c',
                status: 'running',
                createdAt: new Date(0),
                scheduledAt: null,
                startedAt: null,
                completedAt: null,
                counters: {
                  totalContacts: 30,
                  touched: 30,
                  sent: 30,
                  delivered: 30,
                  read,
                  clicked: 0,
                  replied: 0,
                  failed: 0,
                  updatedAt: new Date(0),
                },
              }),
          });
        });
      },
      failureReasons: (ids: readonly string[]) => Promise.resolve(ids.map(() => [])),
    } as unknown as CampaignsService;
  }

  /** Runs `body` while every read is answered as it comes (the hub may read again, any number of times). */
  async answeringAll<T>(body: () => Promise<T>): Promise<T> {
    const release = setInterval(() => this.pending.shift()?.resolve(), 5);
    try {
      return await body();
    } finally {
      clearInterval(release);
    }
  }
}

/** A hub over controlled reads, closed after `body`. */
async function withHub(body: (hub: CampaignStatsHub, reads: ControlledReads) => Promise<void>): Promise<void> {
  const reads = new ControlledReads();
  const hub = new CampaignStatsHub(reads.service(), { intervalMs: 10 }, createLogger('silent'));
  try {
    await body(hub, reads);
  } finally {
    hub.close();
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

async function next(iterator: AsyncIterableIterator<{ readCount: number }>, ms = 1000) {
  return Promise.race([
    iterator.next().then((r) => r.value.readCount),
    new Promise((resolve) => setTimeout(() => resolve('nothing'), ms)),
  ]);
}

describe('the hub: a subscriber whose own read is overtaken by a push', () => {
  it('still ends at the latest state (it is read again for everyone)', async () => {
    await withHub(async (hub, reads) => {
      // One subscriber watches the campaign; its first snapshot says read 0.
      const first = hub.subscribe('w', ID);
      await tick();
      reads.pending.shift()!.resolve();
      const a = await first;
      expect(await next(a)).toBe(0);

      // A change is announced; before the hub reads it, a second subscriber arrives and begins
      // its own read: it sees the state before the change's commit.
      hub.changed([ID]);
      const second = hub.subscribe('w', ID);
      reads.read = 15; // the change commits
      await new Promise((resolve) => setTimeout(resolve, 30));
      const [stale, fresh] = reads.pending.splice(0, 2);
      expect([stale!.read, fresh!.read]).toEqual([0, 15]);
      // The hub's read (after the commit) finishes first and is pushed to the first subscriber.
      fresh!.resolve();
      expect(await next(a)).toBe(15);
      // Then the stale read finishes, and the second subscriber is added with it.
      stale!.resolve();
      const b = await second;
      expect(await next(b)).toBe(0);
      // Nothing else changes, yet it must not stay at 0.
      await reads.answeringAll(async () => {
        expect(await next(b)).toBe(15);
      });
    });
  });

  it('the first subscriber on an instance: a change heard during its snapshot read is not lost', async () => {
    await withHub(async (hub, reads) => {
      // No watcher yet: the subscriber's snapshot read begins before the change commits ...
      const first = hub.subscribe('w', ID);
      await tick();
      reads.read = 15; // ... the change commits, and its announcement arrives while it reads
      hub.changed([ID]);
      reads.pending.shift()!.resolve();
      const a = await first;
      expect(await next(a)).toBe(0);
      // Nothing else changes, yet it must reach the committed state.
      await reads.answeringAll(async () => {
        expect(await next(a)).toBe(15);
      });
    });
  });
});

describe('the hub: a burst of new subscribers', () => {
  it('shares one snapshot read among the subscribers that arrive while it is under way', async () => {
    await withHub(async (hub, reads) => {
      const subscribing = Array.from({ length: 100 }, () => hub.subscribe('w', ID));
      await tick();
      expect(reads.pending).toHaveLength(1);
      reads.pending.shift()!.resolve();
      const iterators = await Promise.all(subscribing);
      for (const iterator of iterators) expect(await next(iterator)).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(reads.pending).toHaveLength(0); // nothing changed: no read again
    });
  });

  it('a subscriber arriving after a change was heard does not join the older read', async () => {
    await withHub(async (hub, reads) => {
      const first = hub.subscribe('w', ID);
      await tick();
      reads.read = 15;
      hub.changed([ID]);
      const second = hub.subscribe('w', ID);
      await tick();
      expect(reads.pending.map((p) => p.read)).toEqual([0, 15]);
      reads.pending.pop()!.resolve();
      expect(await next(await second)).toBe(15);
      reads.pending.shift()!.resolve();
      const a = await first;
      expect(await next(a)).toBe(0);
      await reads.answeringAll(async () => {
        expect(await next(a)).toBe(15);
      });
    });
  });

  it('after the change feed resumes, a new subscriber does not join a read begun before the gap', async () => {
    await withHub(async (hub, reads) => {
      const first = hub.subscribe('w', ID);
      await tick();
      reads.read = 15; // committed while the feed was down: nobody heard of it
      hub.refreshAll(); // the feed is back
      const second = hub.subscribe('w', ID);
      await tick();
      expect(reads.pending.map((p) => p.read)).toEqual([0, 15]);
      await reads.answeringAll(async () => {
        const [a, b] = [await first, await second];
        const seen = async (it: AsyncIterableIterator<{ readCount: number }>) => [await next(it), await next(it, 300)];
        expect(await seen(a)).toContain(15);
        expect(await seen(b)).toContain(15);
      });
    });
  });

  it('does not share a read across workspaces: each gets its own answer', async () => {
    await withHub(async (hub, reads) => {
      const mine = hub.subscribe('w', ID);
      const theirs = hub.subscribe('other', ID);
      await tick();
      expect(reads.pending).toHaveLength(2);
      for (const p of reads.pending.splice(0)) p.resolve();
      await Promise.all([mine, theirs]);
    });
  });
});
