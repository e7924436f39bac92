import { Client } from 'pg';
import type { Logger } from '../logger';
import { STATS_CHANNEL } from '../store/change-feed';

export interface StatsListener {
  /** times the feed has reconnected since start */
  readonly reconnects: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * One dedicated connection per instance that LISTENs for changed campaigns. When it drops it
 * reconnects with backoff (100 ms doubling to 5 s) and then asks for every watched campaign to
 * be re-read, since a change committed while it was down would otherwise go unheard.
 */
export class PostgresStatsListener implements StatsListener {
  private client: Client | null = null;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private backoffMs = 100;
  /** times it has reconnected since start */
  reconnects = 0;

  constructor(
    private readonly databaseUrl: string,
    private readonly onChange: (campaignIds: string[]) => void,
    private readonly onResume: () => void,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    const client = new Client({
      connectionString: this.databaseUrl,
      application_name: 'campaign-stats-gateway-listener',
      keepAlive: true,
    });
    client.on('notification', (message) => {
      if (message.channel === STATS_CHANNEL && message.payload) this.onChange([message.payload]);
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('listener connection ended')));
    await client.connect();
    await client.query(`LISTEN ${STATS_CHANNEL}`);
    if (this.stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.backoffMs = 100;
  }

  private lost(client: Client, error: unknown): void {
    if (this.stopped || this.client !== client) return;
    this.client = null;
    this.logger.warn('live.listener_lost', { error });
    client.end().catch(() => {});
    this.retry();
  }

  private retry(): void {
    if (this.stopped || this.retryTimer) return;
    const wait = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, 5000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect().then(
        () => {
          if (this.stopped) return;
          this.reconnects++;
          this.logger.info('live.listener_resumed', { reconnects: this.reconnects });
          this.onResume();
        },
        (error: unknown) => {
          this.logger.warn('live.listener_reconnect_failed', { error, retryInMs: this.backoffMs });
          this.retry();
        },
      );
    }, wait);
  }
}
