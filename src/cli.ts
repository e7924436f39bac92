// npm run --silent cli -- api-key create --workspace NAME | api-key revoke KEY
//   | whatsapp-number add ID --workspace NAME | whatsapp-number remove ID | whatsapp-number list
//   | migrate | reconcile [ID] [--fix] | webhook sign FILE | help
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ApiKeysService } from './auth/api-keys.service';
import { WhatsAppNumbersService, isPhoneNumberId } from './auth/whatsapp-numbers.service';
import { ConfigError, loadConfig } from './config';
import { openDatabase } from './store/data-source';
import { runningEmbeddedUrl, startEmbeddedPostgres } from './store/embedded-postgres';
import type { EmbeddedDatabase } from './store/embedded-postgres';
import { createLogger } from './logger';
import { isCampaignId } from './domain/identifiers';
import { signWhatsAppBody } from './ingest/whatsapp.signature';
import Redis from 'ioredis';
import { AfterCommitChangeFeed, PostgresChangeFeed, STATS_CHANNEL } from './store/change-feed';
import { reconcileCampaigns } from './store/reconcile.store';
import { WorkspaceStore } from './store/workspace.store';

const USAGE = `usage:
  cli api-key create --workspace NAME   prints a new key for the workspace (made if new)
  cli api-key revoke KEY                revokes a key, given whole (as create printed it) or by its
                                        prefix (wapl_ and 8 more)
  cli whatsapp-number add PHONE_NUMBER_ID --workspace NAME
                                        binds a WhatsApp number (Meta's phone_number_id) to the
                                        workspace (made if new); exit 1 if another workspace has it
  cli whatsapp-number remove PHONE_NUMBER_ID
                                        unbinds it; exit 1 if it was bound to no workspace
  cli whatsapp-number list              prints every binding: number, workspace, when (tab-separated)
  cli migrate                           applies pending migrations
  cli webhook sign FILE                 prints the X-Hub-Signature-256 value (sha256=…) of the
                                        file's bytes with WHATSAPP_APP_SECRET
  cli reconcile [CAMPAIGN_ID] [--fix]   recounts campaigns from their contacts, reports drift
                                        (one JSON line each), repairs it with --fix; exit 1 on
                                        drift left unrepaired or an unknown CAMPAIGN_ID
  cli help, cli --help, cli -h          prints this`;

/** What the command line asks for. */
type Command =
  | { run: 'help' }
  | { run: 'create'; workspace: string }
  | { run: 'revoke'; keyOrPrefix: string }
  | { run: 'number-add'; phoneNumberId: string; workspace: string }
  | { run: 'number-remove'; phoneNumberId: string }
  | { run: 'number-list' }
  | { run: 'migrate' }
  | { run: 'sign'; file: string }
  | { run: 'reconcile'; campaignId: string | undefined; fix: boolean };

/** A command line that asks for nothing this CLI does: exit 2, with `showUsage` the usage after the message. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly showUsage = true,
  ) {
    super(message);
  }
}

/** Parses the arguments (after `cli`) into a command, or throws a {@link UsageError}. */
function parseCommand(argv: string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        workspace: { type: 'string' },
        fix: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help || positionals[0] === 'help') return { run: 'help' };
  const [group, ...rest] = positionals;
  const name = group === 'api-key' || group === 'whatsapp-number' ? `${group} ${rest[0] ?? ''}`.trim() : (group ?? '');
  /** Refuses options other than `allowed` and more than `max` positionals after the command. */
  const allowOnly = (args: string[], max: number, ...allowed: string[]) => {
    const stray = Object.keys(values).find((option) => !allowed.includes(option));
    if (stray) throw new UsageError(`${name}: --${stray} does not apply here`);
    if (args.length > max) throw new UsageError(`${name}: unexpected argument ${args[max]}`);
  };
  switch (group) {
    case 'api-key': {
      const [command, ...args] = rest;
      if (command === 'create') {
        allowOnly(args, 0, 'workspace');
        if (!values.workspace) throw new UsageError('api-key create: --workspace NAME is required');
        return { run: 'create', workspace: values.workspace };
      }
      if (command === 'revoke') {
        allowOnly(args, 1);
        const keyOrPrefix = args[0];
        if (!keyOrPrefix?.startsWith('wapl_')) throw new UsageError('api-key revoke: KEY must start with wapl_');
        return { run: 'revoke', keyOrPrefix };
      }
      throw new UsageError(command === undefined ? 'api-key: no command' : `api-key: unknown command ${command}`);
    }
    case 'webhook': {
      const [command, ...args] = rest;
      if (command !== 'sign') throw new UsageError(`webhook: unknown command ${command ?? '(none)'}`);
      allowOnly(args, 1);
      if (!args[0]) throw new UsageError('webhook sign: FILE is required');
      return { run: 'sign', file: args[0] };
    }
    case 'whatsapp-number': {
      const [command, ...args] = rest;
      const phoneNumberId = () => {
        const id = args[0];
        if (id === undefined) throw new UsageError(`${name}: PHONE_NUMBER_ID is required`);
        if (!isPhoneNumberId(id)) throw new UsageError(`${name}: PHONE_NUMBER_ID must be digits (1 to 64)`, false);
        return id;
      };
      if (command === 'add') {
        allowOnly(args, 1, 'workspace');
        if (!values.workspace) throw new UsageError('whatsapp-number add: --workspace NAME is required');
        return { run: 'number-add', phoneNumberId: phoneNumberId(), workspace: values.workspace };
      }
      if (command === 'remove') {
        allowOnly(args, 1);
        return { run: 'number-remove', phoneNumberId: phoneNumberId() };
      }
      if (command === 'list') {
        allowOnly(args, 0);
        return { run: 'number-list' };
      }
      throw new UsageError(
        command === undefined ? 'whatsapp-number: no command' : `whatsapp-number: unknown command ${command}`,
      );
    }
    case 'migrate':
      allowOnly(rest, 0);
      return { run: 'migrate' };
    case 'reconcile': {
      allowOnly(rest, 1, 'fix');
      const campaignId = rest[0];
      if (campaignId !== undefined && !isCampaignId(campaignId))
        throw new UsageError('reconcile: CAMPAIGN_ID must be 24 lowercase hex characters', false);
      return { run: 'reconcile', campaignId, fix: values.fix ?? false };
    }
    case undefined:
      throw new UsageError('no command');
    default:
      throw new UsageError(`unknown command ${group}`);
  }
}

async function main(argv: string[]): Promise<void> {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(error.showUsage ? `${error.message}\n\n${USAGE}\n` : `${error.message}\n`);
    process.exitCode = 2;
    return;
  }
  if (command.run === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }

  let config;
  try {
    config = loadConfig();
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
    process.exitCode = 2;
    return;
  }
  if (command.run === 'sign') {
    if (!config.whatsappAppSecret) {
      process.stderr.write('webhook sign: set WHATSAPP_APP_SECRET to the app secret the gateway uses\n');
      process.exitCode = 2;
      return;
    }
    process.stdout.write(`${signWhatsAppBody(readFileSync(command.file), config.whatsappAppSecret)}\n`);
    return;
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
    switch (command.run) {
      case 'create': {
        const { key } = await keys.create(command.workspace);
        process.stdout.write(`${key}\n`);
        break;
      }
      case 'revoke': {
        const revoked = await keys.revoke(command.keyOrPrefix);
        process.stderr.write(`revoked ${revoked} key(s)\n`);
        if (revoked === 0) process.exitCode = 1;
        break;
      }
      case 'number-add': {
        const { outcome, binding } = await new WhatsAppNumbersService(db).add(command.phoneNumberId, command.workspace);
        if (outcome === 'taken') {
          process.stderr.write(
            `whatsapp-number add: ${binding.phoneNumberId} is bound to workspace ${binding.workspaceName}; ` +
              `remove it there first (whatsapp-number remove ${binding.phoneNumberId})\n`,
          );
          process.exitCode = 1;
        } else {
          process.stderr.write(
            outcome === 'bound'
              ? `bound ${binding.phoneNumberId} to workspace ${binding.workspaceName}\n`
              : `${binding.phoneNumberId} is bound to workspace ${binding.workspaceName} already\n`,
          );
        }
        break;
      }
      case 'number-remove': {
        const removed = await new WhatsAppNumbersService(db).remove(command.phoneNumberId);
        process.stderr.write(
          removed ? `removed ${command.phoneNumberId}\n` : `${command.phoneNumberId} is bound to no workspace\n`,
        );
        if (!removed) process.exitCode = 1;
        break;
      }
      case 'number-list': {
        for (const n of await new WhatsAppNumbersService(db).list()) {
          process.stdout.write(`${n.phoneNumberId}\t${n.workspaceName}\t${n.createdAt.toISOString()}\n`);
        }
        break;
      }
      case 'reconcile': {
        // Repairs are announced like any change, so that open dashboards show the repaired numbers.
        const redis = config.redisUrl ? new Redis(config.redisUrl, { maxRetriesPerRequest: 2 }) : null;
        const feed = redis
          ? new AfterCommitChangeFeed(db, (ids) => {
              for (const id of ids) void redis.publish(STATS_CHANNEL, id).catch(() => {});
            })
          : new PostgresChangeFeed();
        const report = await reconcileCampaigns(db, {
          ...(command.campaignId ? { campaignId: command.campaignId } : {}),
          fix: command.fix,
          feed,
        });
        await redis?.quit().catch(() => {});
        if (command.campaignId && report.length === 0) {
          process.stderr.write(`reconcile: no campaign ${command.campaignId}\n`);
          process.exitCode = 1;
          break;
        }
        for (const line of report) process.stdout.write(`${JSON.stringify(line)}\n`);
        const drifted = report.filter((r) => r.drift).length;
        process.stderr.write(
          `${report.length} campaign(s) checked, ${drifted} with drift${drifted && command.fix ? ', fixed' : ''}\n`,
        );
        if (drifted > 0 && !command.fix) process.exitCode = 1;
        break;
      }
      case 'migrate':
        process.stderr.write('migrations applied\n');
        break;
      default: {
        const unhandled: never = command;
        throw new Error(`unhandled command ${JSON.stringify(unhandled)}`);
      }
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
