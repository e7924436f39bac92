// npm run --silent cli -- api-key create --workspace NAME | api-key revoke PREFIX | migrate
import 'reflect-metadata';
import { ApiKeysService } from './auth/api-keys.service';
import { ConfigError, loadConfig } from './config';
import { openDatabase } from './store/data-source';
import { runningEmbeddedUrl, startEmbeddedPostgres } from './store/embedded-postgres';
import type { EmbeddedDatabase } from './store/embedded-postgres';
import { createLogger } from './logger';
import { WorkspaceStore } from './store/workspace.store';

const USAGE = `usage:
  cli api-key create --workspace NAME   prints a new key for the workspace (made if new)
  cli api-key revoke KEY_PREFIX         revokes the keys that start with KEY_PREFIX (wapl_ and 8 more)
  cli migrate                           applies pending migrations`;

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
          : fail(USAGE);
  let workspace: string | undefined;
  if (run === 'create') {
    const at = rest.indexOf('--workspace');
    workspace = at >= 0 ? rest[at + 1] : undefined;
    if (!workspace || workspace.startsWith('--')) fail(USAGE);
  }
  const prefix = run === 'revoke' ? rest[0] : undefined;
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
