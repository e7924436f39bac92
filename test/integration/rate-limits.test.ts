import { createServer } from 'node:net';
import { RateLimits, rateWindow } from '../../src/auth/rate-limits';
import { DomainError } from '../../src/domain/errors';
import { createLogger } from '../../src/logger';

const silent = createLogger('silent');

/** The outcome of `n` calls: 'ok' or the seconds to wait. */
async function spendMany(spend: () => Promise<void>, n: number): Promise<(string | number)[]> {
  const out: (string | number)[] = [];
  for (let i = 0; i < n; i++) {
    try {
      await spend();
      out.push('ok');
    } catch (error) {
      if (!(error instanceof DomainError) || error.code !== 'RATE_LIMITED') throw error;
      out.push(error.retryAfter!);
    }
  }
  return out;
}

describe('rate limits (one budget per key, per address before any lookup)', () => {
  it('counts in a window of burst/rps seconds holding rps × window', () => {
    expect(rateWindow(50, 100)).toEqual({ points: 100, duration: 2 });
    expect(rateWindow(1, 2)).toEqual({ points: 2, duration: 2 });
    expect(rateWindow(1000, 100)).toEqual({ points: 1000, duration: 1 });
  });

  it('in memory: a burst passes, the next is RATE_LIMITED with a wait, other keys and addresses untouched', async () => {
    const limits = new RateLimits({ rateLimitRps: 1, rateLimitBurst: 3, redisUrl: null }, silent);
    const spent = await spendMany(() => limits.spendKey('a'), 4);
    expect(spent.slice(0, 3)).toEqual(['ok', 'ok', 'ok']);
    expect(spent[3]).toBeGreaterThanOrEqual(1);
    expect(await spendMany(() => limits.spendKey('b'), 1)).toEqual(['ok']);
    expect(await spendMany(() => limits.spendAddress('10.0.0.1'), 1)).toEqual(['ok']);
    await limits.close();
  });

  it('off when RATE_LIMIT_RPS is 0', async () => {
    const limits = new RateLimits({ rateLimitRps: 0, rateLimitBurst: 0, redisUrl: null }, silent);
    expect(limits.enabled).toBe(false);
    expect(new Set(await spendMany(() => limits.spendKey('a'), 50))).toEqual(new Set(['ok']));
  });

  it('with Redis unreachable: the in-memory insurance limits, and the outage is logged once', async () => {
    // A port that accepts nothing: reserve one, then close it.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = probe.address() as { port: number };
        probe.close(() => resolve(p));
      });
    });
    const lines: string[] = [];
    const limits = new RateLimits(
      { rateLimitRps: 1, rateLimitBurst: 2, redisUrl: `redis://127.0.0.1:${port}` },
      createLogger('info', (line) => lines.push(line)),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const spent = await spendMany(() => limits.spendKey('k'), 3);
    expect(spent.slice(0, 2)).toEqual(['ok', 'ok']);
    expect(typeof spent[2]).toBe('number');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(lines.filter((l) => l.includes('ratelimit.redis_unreachable'))).toHaveLength(1);
    await limits.close();
  });
});

// Set by globalSetup when its PING reached REDIS_URL; otherwise it said once why Redis tests are skipped.
const redisUrl = process.env.TEST_REDIS_URL;
const describeWithRedis = redisUrl ? describe : describe.skip;

describeWithRedis(`rate limits in Redis (${redisUrl})`, () => {
  it('one budget across instances: two limiters share a key budget', async () => {
    const config = { rateLimitRps: 2, rateLimitBurst: 4, redisUrl: redisUrl! };
    const a = new RateLimits(config, silent);
    const b = new RateLimits(config, silent);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const key = `shared-${Date.now()}-${Math.random()}`;
    const spent = [
      ...(await spendMany(() => a.spendKey(key), 2)),
      ...(await spendMany(() => b.spendKey(key), 2)),
      ...(await spendMany(() => a.spendKey(key), 1)),
      ...(await spendMany(() => b.spendKey(key), 1)),
    ];
    expect(spent.slice(0, 4)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(spent.slice(4).every((s) => typeof s === 'number')).toBe(true);
    await Promise.all([a.close(), b.close()]);
  });
});
