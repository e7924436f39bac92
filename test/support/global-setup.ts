import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { createLogger } from '../../src/logger';
import type { EmbeddedDatabase } from '../../src/store/embedded-postgres';
import { startEmbeddedPostgres } from '../../src/store/embedded-postgres';

declare global {
  var __embeddedTestDatabase: EmbeddedDatabase | undefined;
}

/** Where the Redis tests look for a server. @default redis://127.0.0.1:6379 */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Null when a Redis at `url` answers PING within a second, else why not. Leaves nothing open. */
async function whyRedisUnreachable(url: string): Promise<string | null> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  let cause: unknown = null; // the socket's own error says more than the rejection ("Connection is closed.")
  redis.on('error', (error: unknown) => (cause ??= error));
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG' ? null : 'no PONG to PING';
  } catch (error) {
    const reason = cause ?? error;
    return reason instanceof Error ? reason.message : String(reason);
  } finally {
    redis.disconnect();
  }
}

/**
 * One PostgreSQL server for the run: DATABASE_URL's when set, else an embedded one in a temporary
 * folder. Each test file then makes its own database on it (test/support/database.ts).
 * Also finds out once whether Redis is reachable: the Redis tests run when it is (TEST_REDIS_URL)
 * and are skipped, said here, when it is not; REQUIRE_REDIS=1 makes that an error instead.
 */
export default async function globalSetup(): Promise<void> {
  const redisProblem = await whyRedisUnreachable(REDIS_URL);
  if (redisProblem === null) {
    process.env.TEST_REDIS_URL = REDIS_URL;
  } else {
    const message = `Redis not reachable at ${REDIS_URL} (${redisProblem}): the Redis fan-out tests are skipped`;
    if (process.env.REQUIRE_REDIS === '1') throw new Error(`${message}, and REQUIRE_REDIS=1`);
    process.stderr.write(`\n${message}\n`);
    delete process.env.TEST_REDIS_URL;
  }

  if (process.env.DATABASE_URL) {
    process.env.TEST_ADMIN_DATABASE_URL = process.env.DATABASE_URL;
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'csg-test-pg-'));
  const server = await startEmbeddedPostgres(dir, createLogger('warn'));
  globalThis.__embeddedTestDatabase = server;
  process.env.TEST_ADMIN_DATABASE_URL = server.url;
  process.env.TEST_EMBEDDED_DIR = dir;
}
