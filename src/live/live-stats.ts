import type { DataSource } from 'typeorm';
import type { CampaignsService } from '../campaigns/campaigns.service';
import type { Logger } from '../logger';
import { CampaignStatsHub } from './campaign-stats.hub';
import type { StatsListener } from './postgres-stats-listener';
import { PostgresStatsListener } from './postgres-stats-listener';
import { RedisStatsFeed } from './redis-stats-feed';
import type { ChangeFeed } from '../store/change-feed';
import { AfterCommitChangeFeed, PostgresChangeFeed } from '../store/change-feed';

export interface LiveStatsConfig {
  statsPushIntervalMs: number;
  redisUrl: string | null;
  /** a direct connection for LISTEN when the pool goes through a transaction pooler; unset: the pool's URL */
  databaseListenUrl?: string | null;
}

/**
 * The hub and the change feed that drives it: PostgreSQL LISTEN/NOTIFY on the app's own database
 * (NOTIFY sent inside each changing transaction; LISTEN over `databaseListenUrl` when set), or Redis pub/sub when `REDIS_URL` is set
 * (published after the commit). Every change announces itself through `feed`.
 */
export function createLiveStats(
  config: LiveStatsConfig,
  db: DataSource,
  campaigns: CampaignsService,
  logger: Logger,
): { hub: CampaignStatsHub; listener: StatsListener; feed: ChangeFeed } {
  const hub = new CampaignStatsHub(campaigns, { intervalMs: config.statsPushIntervalMs }, logger);
  const onChange = (ids: string[]) => hub.changed(ids);
  const onResume = () => hub.refreshAll();
  if (config.redisUrl) {
    const redis = new RedisStatsFeed(config.redisUrl, onChange, onResume, logger);
    return { hub, listener: redis, feed: new AfterCommitChangeFeed(db, (ids) => redis.publish(ids)) };
  }
  // LISTEN is session state: a transaction pooler would lose it, so it takes a connection of its own.
  const url = config.databaseListenUrl ?? (db.options as { url?: string }).url;
  if (!url) throw new Error('live stats need the database URL of the data source');
  return {
    hub,
    listener: new PostgresStatsListener(url, onChange, onResume, logger),
    feed: new PostgresChangeFeed(),
  };
}
