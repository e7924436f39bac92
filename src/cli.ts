// npm run --silent cli -- api-key create --workspace NAME | api-key revoke PREFIX | migrate | reconcile [ID] [--fix]
import 'reflect-metadata';
import { ApiKeysService } from './auth/api-keys.service';
import { ConfigError, loadConfig } from './config';
import { openDatabase } from './store/data-source';
import { runningEmbeddedUrl, startEmbeddedPostgres } from './store/embedded-postgres';
import type { EmbeddedDatabase } from './store/embedded-postgres';
import { createLogger } from './logger';
import { isCampaignId } from './domain/identifiers';
import { reconcileCampaigns } from './store/reconcile.store';
import { WorkspaceStore } from './store/workspace.store';

const USAGE = `usage:
  cli api-key create --workspace NAME   prints a new key for the workspace (made if new)
  cli api-key revoke KEY_PREFIX         revokes the keys that start with KEY_PREFIX (wapl_ and 8 more)
  cli migrate                           applies pending migrations
  cli reconcile [CAMPAIGN_ID] [--fix]   recounts campaigns from their contacts, reports drift
                                        (one JSON line each), repairs it with --fix; exit 1 on
                                        drift left unrepaired`;

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  const [group, command, ...rest] = argv;
  const run =
    group === 'api-key' && command === 'create'
      ? 'create'
      : group === 'api-key' && command === 'revoke'
        ? 'revoke'
        : group === 'migrate'
          ? 'migrate'
          : group === 'reconcile'
            ? 'reconcile'
            : fail(USAGE);
  let workspace: string | undefined;
  if (run === 'create') {
    const at = rest.indexOf('--workspace');
    workspace = at >= 0 ? rest[at + 1] : undefined;
    if (!workspace || workspace.startsWith('--')) fail(USAGE);
  }
  const prefix = run === 'revoke' ? rest[0] : undefined;
  const reconcileArgs = run === 'reconcile' ? [command, ...rest].filter((a): a is string => a !== undefined) : [];
  const reconcileId = reconcileArgs.find((a) => !a.startsWith('--'));
  if (reconcileId !== undefined && !isCampaignId(reconcileId))
    fail('reconcile: CAMPAIGN_ID must be 24 lowercase hex characters');
  if (run === 'revoke' && (!prefix || !prefix.startsWith('wapl_'))) fail(USAGE);

  let config;
  try {
    config = loadConfig();
  } catch (error) {
    fail(error instanceof ConfigError ? error.message : String(error));
  }
  // Messages go to standard error: standard output carries the key alone.
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, (line) =>
    process.stderr.write(line),
  );
  let embedded: EmbeddedDatabase | null = null;
  let url = config.databaseUrl ?? runningEmbeddedUrl(config.dataDir);
  if (!url) {
    embedded = await startEmbeddedPostgres(config.dataDir, logger);
    url = embedded.url;
  }
  const db = await openDatabase({ url, poolSize: 2, applicationName: 'campaign-stats-gateway-cli' });
  try {
    const keys = new ApiKeysService(new WorkspaceStore(db));
    if (run === 'create') {
      const { key } = await keys.create(workspace!);
      process.stdout.write(`${key}\n`);
    } else if (run === 'revoke') {
      const revoked = await keys.revoke(prefix!);
      process.stderr.write(`revoked ${revoked} key(s)\n`);
      if (revoked === 0) process.exitCode = 1;
    } else if (run === 'reconcile') {
      const report = await reconcileCampaigns(db, {
        ...(reconcileId ? { campaignId: reconcileId } : {}),
        fix: reconcileArgs.includes('--fix'),
      });
      for (const line of report) process.stdout.write(`${JSON.stringify(line)}\n`);
      const drifted = report.filter((r) => r.drift).length;
      process.stderr.write(
        `${report.length} campaign(s) checked, ${drifted} with drift${drifted && reconcileArgs.includes('--fix') ? ', fixed' : ''}\n`,
      );
      if (drifted > 0 && !reconcileArgs.includes('--fix')) process.exitCode = 1;
    } else {
      process.stderr.write('migrations applied\n');
    }
  } finally {
    await db.destroy();
    await embedded?.stop();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
