import Redis from 'ioredis';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { rateLimited } from '../domain/errors';
import type { Logger } from '../logger';

export interface RateLimitConfig {
  /** requests per second per API key (or client address, unauthenticated); 0 turns limits off */
  rateLimitRps: number;
  /** how many may come at once */
  rateLimitBurst: number;
  /** with it, one budget across every instance */
  redisUrl: string | null;
}

/**
 * The window a budget is counted in: `RATE_LIMIT_BURST / RATE_LIMIT_RPS` seconds (at least 1)
 * holding `RATE_LIMIT_RPS × window` requests, so a key may spend its burst at once and averages
 * at most its rate (docs/configuration.md).
 */
export function rateWindow(rps: number, burst: number): { points: number; duration: number } {
  const duration = Math.max(1, Math.round(burst / rps));
  return { points: Math.max(1, Math.round(rps * duration)), duration };
}

/**
 * The one rate limiter of every transport: REST, GraphQL over HTTP and GraphQL operations over
 * WebSocket spend the same per-key budget; callers not yet authenticated spend their address's
 * before any key lookup. In memory, or in Redis with `REDIS_URL` (one budget across instances),
 * insured by an in-memory limiter while Redis cannot be reached.
 */
export class RateLimits {
  private readonly limiter: RateLimiterAbstract | null;
  private readonly redis: Redis | null = null;
  private redisDown = false;

  constructor(config: RateLimitConfig, logger: Logger) {
    if (config.rateLimitRps <= 0) {
      this.limiter = null;
      return;
    }
    const window = rateWindow(config.rateLimitRps, config.rateLimitBurst);
    const memory = new RateLimiterMemory({ ...window, keyPrefix: 'csg_rl' });
    if (!config.redisUrl) {
      this.limiter = memory;
      return;
    }
    // No offline queue: while Redis is away, each call fails at once and the insurance answers.
    const redis = new Redis(config.redisUrl, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (times: number) => Math.min(times * 200, 5000),
    });
    redis.on('error', (error: unknown) => {
      if (this.redisDown) return;
      this.redisDown = true; // logged once per outage
      logger.warn('ratelimit.redis_unreachable', { error, using: 'in-memory limits of this instance' });
    });
    redis.on('ready', () => {
      if (!this.redisDown) return;
      this.redisDown = false;
      logger.info('ratelimit.redis_resumed');
    });
    this.redis = redis;
    this.limiter = new RateLimiterRedis({
      ...window,
      keyPrefix: 'csg_rl',
      storeClient: redis,
      rejectIfRedisNotReady: true,
      insuranceLimiter: memory,
    });
  }

  get enabled(): boolean {
    return this.limiter !== null;
  }

  /** Spends one request of an API key's budget (named by the key's hash); RATE_LIMITED when over. */
  spendKey(keyHash: string): Promise<void> {
    return this.spend(`key:${keyHash}`);
  }

  /** Spends one request of a client address's budget, for callers not (yet) authenticated. */
  spendAddress(address: string | undefined): Promise<void> {
    return this.spend(`addr:${address ?? 'unknown'}`);
  }

  /**
   * RATE_LIMITED when an address has already spent its budget on failed authentications, without
   * spending any: checked before a key lookup, so a flood of wrong keys stops costing queries.
   */
  async checkAddress(address: string | undefined): Promise<void> {
    if (!this.limiter) return;
    const bucket = `addr:${address ?? 'unknown'}`;
    let state: RateLimiterRes | null;
    try {
      state = await this.limiter.get(bucket);
    } catch {
      return; // the store is away: the lookup's own failure, if any, is charged to the insurance
    }
    if (state && state.consumedPoints >= this.limiter.points) {
      throw rateLimited(Math.max(1, Math.ceil(state.msBeforeNext / 1000)));
    }
  }

  private async spend(bucket: string): Promise<void> {
    if (!this.limiter) return;
    try {
      await this.limiter.consume(bucket, 1);
    } catch (result) {
      if (result instanceof RateLimiterRes) throw rateLimited(Math.max(1, Math.ceil(result.msBeforeNext / 1000)));
      throw result;
    }
  }

  async close(): Promise<void> {
    if (this.redis) await this.redis.quit().catch(() => this.redis?.disconnect());
  }
}
