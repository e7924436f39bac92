import type { DataSource } from 'typeorm';
import type { Config } from './config';
import type { Logger } from './logger';
import { openDatabase } from './store/data-source';
import { startEmbeddedPostgres } from './store/embedded-postgres';

/** An open, migrated database, and how to let it go. */
export interface Database {
  dataSource: DataSource;
  url: string;
  embedded: boolean;
  close(): Promise<void>;
}

/** `DATABASE_URL` when set; otherwise an embedded PostgreSQL under the data directory. Migrates. */
export async function connectDatabase(
  config: Pick<Config, 'databaseUrl' | 'dataDir' | 'databasePoolSize'> & Partial<Pick<Config, 'databasePoolMode'>>,
  logger: Logger,
): Promise<Database> {
  const embedded = config.databaseUrl ? null : await startEmbeddedPostgres(config.dataDir, logger);
  const url = config.databaseUrl ?? embedded!.url;
  try {
    // The embedded PostgreSQL is always reached directly: the pool mode is for DATABASE_URL.
    const poolMode = embedded ? 'session' : (config.databasePoolMode ?? 'session');
    const dataSource = await openDatabase({ url, poolSize: config.databasePoolSize, poolMode }, (message) =>
      logger.warn('database.setting_missing', { message }),
    );
    return {
      dataSource,
      url,
      embedded: embedded !== null,
      async close() {
        await dataSource.destroy().catch(() => {});
        await embedded?.stop();
      },
    };
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}
