import type { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner } from 'typeorm';
import type { TransactionCommitEvent } from 'typeorm/subscriber/event/TransactionCommitEvent';
import type { TransactionRollbackEvent } from 'typeorm/subscriber/event/TransactionRollbackEvent';

/** The PostgreSQL channel (and Redis channel) that announces campaigns whose stats changed; the payload is the campaign id. */
export const STATS_CHANNEL = 'campaign_stats_changed';

/**
 * The change feed: every transaction that moves a campaign's numbers or status announces it here,
 * from inside the transaction; subscribers on every instance hear of it once it commits, and never
 * of a change that rolled back. One interface, two implementations (docs/live.md).
 */
export interface ChangeFeed {
  announce(tx: EntityManager, campaignIds: readonly string[]): Promise<void>;
}

/**
 * PostgreSQL LISTEN/NOTIFY: NOTIFY inside the transaction. PostgreSQL delivers the notifications
 * at commit and drops them on rollback, so listeners never hear of a change that did not happen,
 * nor miss one that did.
 */
export class PostgresChangeFeed implements ChangeFeed {
  async announce(tx: EntityManager, campaignIds: readonly string[]): Promise<void> {
    if (campaignIds.length === 0) return;
    await tx.query(`SELECT pg_notify('${STATS_CHANNEL}', id) FROM unnest($1::text[]) AS id`, [[...campaignIds]]);
  }
}

/**
 * A feed outside PostgreSQL (Redis pub/sub): what a transaction announces is kept with its query
 * runner and published after its commit (TypeORM's commit event), dropped on rollback.
 */
export class AfterCommitChangeFeed implements ChangeFeed, EntitySubscriberInterface {
  private readonly pending = new WeakMap<QueryRunner, Set<string>>();

  constructor(
    private readonly db: DataSource,
    private readonly publish: (campaignIds: string[]) => void,
  ) {
    db.subscribers.push(this);
  }

  announce(tx: EntityManager, campaignIds: readonly string[]): Promise<void> {
    if (campaignIds.length === 0) return Promise.resolve();
    const runner = tx.queryRunner;
    if (!runner?.isTransactionActive) {
      this.publish([...campaignIds]);
      return Promise.resolve();
    }
    let ids = this.pending.get(runner);
    if (!ids) this.pending.set(runner, (ids = new Set()));
    for (const id of campaignIds) ids.add(id);
    return Promise.resolve();
  }

  afterTransactionCommit(event: TransactionCommitEvent): void {
    const ids = this.pending.get(event.queryRunner);
    if (!ids) return;
    this.pending.delete(event.queryRunner);
    this.publish([...ids]);
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    this.pending.delete(event.queryRunner);
  }

  /** Stops hearing of commits (the data source outlives the feed in tests). */
  detach(): void {
    const at = this.db.subscribers.indexOf(this);
    if (at >= 0) this.db.subscribers.splice(at, 1);
  }
}
