import Redis from 'ioredis';
import type { Logger } from '../logger';
import { STATS_CHANNEL } from '../store/change-feed';
import type { StatsListener } from './postgres-stats-listener';

/**
 * The change feed over Redis pub/sub (with `REDIS_URL`): each instance publishes the campaigns it
 * changed after the commit, and hears every instance's. ioredis reconnects by itself; after a
 * reconnect every watched campaign is re-read, since messages sent meanwhile are gone.
 */
export class RedisStatsFeed implements StatsListener {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private ready = false;
  reconnects = 0;

  constructor(
    redisUrl: string,
    private readonly onChange: (campaignIds: string[]) => void,
    private readonly onResume: () => void,
    private readonly logger: Logger,
  ) {
    const options = {
      lazyConnect: true,
      maxRetriesPerRequest: 2,
      retryStrategy: (times: number) => Math.min(times * 100, 5000),
    };
    this.publisher = new Redis(redisUrl, options);
    this.subscriber = new Redis(redisUrl, options);
    for (const client of [this.publisher, this.subscriber]) {
      client.on('error', (error: unknown) => this.logger.warn('live.redis_error', { error }));
    }
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === STATS_CHANNEL) this.onChange([message]);
    });
    this.subscriber.on('ready', () => {
      if (!this.ready) return;
      this.reconnects++;
      this.logger.info('live.redis_resumed', { reconnects: this.reconnects });
      this.onResume();
    });
  }

  async start(): Promise<void> {
    await Promise.all([this.publisher.connect(), this.subscriber.connect()]);
    await this.subscriber.subscribe(STATS_CHANNEL);
    this.ready = true;
  }

  /** Publishes campaigns changed by a commit (called after it, by the AfterCommitChangeFeed). */
  publish(campaignIds: readonly string[]): void {
    for (const id of campaignIds) {
      this.publisher.publish(STATS_CHANNEL, id).catch((error: unknown) => {
        // The change is committed; a subscriber sees it at the next change or resume.
        this.logger.warn('live.redis_publish_failed', { error, campaignId: id });
      });
    }
  }

  async stop(): Promise<void> {
    this.ready = false;
    await Promise.all([this.publisher.quit().catch(() => {}), this.subscriber.quit().catch(() => {})]);
  }
}
