import type { App, AppConfig } from '../../src/app';
import { buildApp } from '../../src/app';
import type { Logger } from '../../src/logger';
import { createLogger } from '../../src/logger';
import { openTestDatabase } from './database';
import { openDatabase } from '../../src/store/data-source';
import type { DataSource } from 'typeorm';
import { TEST_PHONE_NUMBER_ID } from './whatsapp-number';

export const TEST_APP_SECRET = 'test-app-secret';
export const TEST_VERIFY_TOKEN = 'test-verify-token';

/** What a test app runs with unless a test says otherwise: no rate limit, fast pushes, no Redis. */
export const TEST_APP_CONFIG: AppConfig = {
  rateLimitRps: 0,
  rateLimitBurst: 0,
  nodeEnv: 'test',
  host: '127.0.0.1',
  whatsappAppSecret: TEST_APP_SECRET,
  whatsappVerifyToken: TEST_VERIFY_TOKEN,
  parkedRetentionHours: 168,
  statsPushIntervalMs: 50,
  redisUrl: null,
};

export interface TestApp {
  app: App;
  db: DataSource;
  url: string;
  databaseUrl: string;
  /** a key of a workspace of its own */
  key: string;
  workspaceId: string;
  newKey(workspace: string): Promise<{ key: string; workspaceId: string }>;
  /** binds a WhatsApp number (`phone_number_id`) to a workspace, by name (made if new) */
  bindNumber(phoneNumberId: string, workspace: string): Promise<void>;
  stop(): Promise<void>;
}

/** The whole gateway on port 0 over a database of its own. */
export async function startTestApp(
  config: Partial<AppConfig> = {},
  /** another instance on this app's database, sharing nothing else */
  sharedWith?: TestApp,
  /** where its logs go (silent by default, or TEST_LOG_LEVEL) */
  logger: Logger = createLogger((process.env.TEST_LOG_LEVEL as 'silent' | undefined) ?? 'silent'),
): Promise<TestApp> {
  const database = sharedWith ? await openSharedDatabase(sharedWith.databaseUrl) : await openTestDatabase();
  const app = await buildApp({ ...TEST_APP_CONFIG, ...config }, database.db, logger);
  const url = await app.start(0);
  const { key, workspaceId } = sharedWith
    ? { key: sharedWith.key, workspaceId: sharedWith.workspaceId }
    : await app.services.keys.create('test-workspace');
  const bindNumber = async (phoneNumberId: string, workspace: string) => {
    const { outcome } = await app.services.whatsAppNumbers.add(phoneNumberId, workspace);
    if (outcome === 'taken') throw new Error(`${phoneNumberId} is bound to another workspace`);
  };
  // The number of the fixtures and of test/support/whatsapp.ts speaks for the test workspace.
  if (!sharedWith) await bindNumber(TEST_PHONE_NUMBER_ID, 'test-workspace');
  return {
    app,
    db: database.db,
    url,
    databaseUrl: database.url,
    key,
    workspaceId,
    newKey: (workspace) => app.services.keys.create(workspace),
    bindNumber,
    async stop() {
      await app.stop();
      await database.close();
    },
  };
}

async function openSharedDatabase(url: string) {
  const db = await openDatabase({ url, poolSize: 10 });
  return { db, url, close: () => db.destroy() };
}
