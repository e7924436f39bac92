// Composition only: config → database → app → listen; signals stop it all cleanly.
import 'reflect-metadata';
import { buildApp } from './app';
import { ConfigError, loadConfig } from './config';
import { connectDatabase } from './database';
import { seedDemoOnFirstStart } from './demo/demo-seed';
import { createLogger } from './logger';
import { DataDirInUseError, recordGatewayPort } from './store/embedded-postgres';
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
  let app;
  let url;
  try {
    app = await buildApp(config, database.dataSource, logger);
    url = await app.start(config.port);
  } catch (error) {
    await database.close(); // never leave the embedded server running behind a failed start
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new StartRefused(`port ${config.port} is already in use (set PORT to another one)`);
    }
    throw error;
  }
  // Signals are heard from the moment the gateway listens: a SIGTERM while the demo is seeded still
  // drains and stops it cleanly instead of killing it with the default action.
  const started = app;
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
      await started.stop();
      await database.close();
      logger.info('gateway.stopped', {});
    } finally {
      clearTimeout(force);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  if (database.embedded) recordGatewayPort(config.dataDir, Number(new URL(url).port));
  logger.info('gateway.listening', { url, graphql: `${url}/graphql`, embeddedDatabase: database.embedded });

  // Demo data only on the embedded default: an external database is never given a workspace or a key.
  const demo = database.embedded
    ? await seedDemoOnFirstStart(app, new WorkspaceStore(database.dataSource), logger)
    : null;
  if (demo) {
    logger.info('demo.api_key', {
      apiKey: demo.key,
      note: 'shown once; make more with: npm run --silent cli -- api-key create --workspace NAME',
      try: `curl -H 'Authorization: Bearer ${demo.key}' ${url}/api/v1/campaigns/${demo.campaignId}/stats`,
    });
  }
}

/** A start refused for a reason the operator can act on: its message alone, no stack. */
class StartRefused extends Error {}

main().catch((error: unknown) => {
  if (error instanceof DataDirInUseError || error instanceof StartRefused) {
    process.stderr.write(`gateway not started: ${error.message}\n`);
    process.exit(1);
  }
  process.stderr.write(
    `gateway failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
