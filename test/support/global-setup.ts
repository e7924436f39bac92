import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/logger';
import type { EmbeddedDatabase } from '../../src/store/embedded-postgres';
import { startEmbeddedPostgres } from '../../src/store/embedded-postgres';

declare global {
  var __embeddedTestDatabase: EmbeddedDatabase | undefined;
}

/**
 * One PostgreSQL server for the run: DATABASE_URL's when set, else an embedded one in a temporary
 * folder. Each test file then makes its own database on it (test/support/database.ts).
 */
export default async function globalSetup(): Promise<void> {
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
