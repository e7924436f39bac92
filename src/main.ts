// Composition only: config → database → app → listen; signals stop it all cleanly.
import 'reflect-metadata';
import { buildApp } from './app';
import { ConfigError, loadConfig } from './config';
import { connectDatabase } from './database';
import { seedDemoOnFirstStart } from './demo/demo-seed';
import { createLogger } from './logger';
import { WorkspaceStore } from './store/workspace.store';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
    process.exit(1);
  }
  const logger = createLogger(config.logLevel);
  const database = await connectDatabase(config, logger);
  const app = await buildApp(config, database.dataSource, logger);
  const url = await app.start(config.port);
  logger.info('gateway.listening', { url, graphql: `${url}/graphql`, embeddedDatabase: database.embedded });

  const demo = await seedDemoOnFirstStart(app, new WorkspaceStore(database.dataSource), logger);
  if (demo) {
    logger.info('demo.api_key', {
      apiKey: demo.key,
      note: 'shown once; make more with: npm run --silent cli -- api-key create --workspace NAME',
      try: `curl -H 'Authorization: Bearer ${demo.key}' ${url}/api/v1/campaigns/${demo.campaignId}/stats`,
    });
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('gateway.stopping', { signal, drainDelayMs: config.drainDelayMs });
    // app.stop drains first (/readyz 503 for DRAIN_DELAY_MS, then sockets closed with 1012).
    const force = setTimeout(() => {
      logger.error('gateway.stop_timeout', {});
      process.exit(1);
    }, config.drainDelayMs + 20_000);
    try {
      await app.stop();
      await database.close();
      logger.info('gateway.stopped', {});
    } finally {
      clearTimeout(force);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `gateway failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
