import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './ports';

const ROOT = join(__dirname, '../..');
const HAPROXY = process.env.HAPROXY_BIN ?? '/usr/sbin/haproxy';
/** The tested configuration itself, addresses from the environment. */
export const HAPROXY_CONFIG = join(ROOT, 'deploy/haproxy.cfg');

function newestUnder(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestUnder(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** `npm run build` (as `npm start` does), unless dist/ is newer than every file of src/. */
export function buildGateway(): void {
  const main = join(ROOT, 'dist/src/main.js');
  if (existsSync(main) && statSync(main).mtimeMs > newestUnder(join(ROOT, 'src'))) return;
  execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
}

async function waitFor(check: () => Promise<boolean>, what: string, process: Process, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (process.child.exitCode !== null)
      throw new Error(`${what}: it exited with ${process.child.exitCode}:\n${process.output()}`);
    if (Date.now() > deadline) throw new Error(`${what} within ${ms} ms:\n${process.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface Process {
  child: ChildProcess;
  output(): string;
  /** resolves with the exit code or signal */
  exited: Promise<number | string | null>;
}

function run(command: string, args: string[], env: Record<string, string>): Process {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20_000)));
  child.stderr.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20_000)));
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  return { child, output: () => output, exited };
}

export interface Gateway extends Process {
  url: string;
  address: string;
  /** SIGTERM, and the exit code */
  stop(): Promise<number | string | null>;
}

/** A compiled gateway process on a free port (dist/src/main.js, as `npm start` runs it). */
export async function startGateway(env: Record<string, string>): Promise<Gateway> {
  const port = await freePort();
  const process = run('node', ['--enable-source-maps', 'dist/src/main.js'], {
    PORT: String(port),
    HOST: '127.0.0.1',
    RATE_LIMIT_RPS: '0',
    // All 300 subscribers share one key: after a failover the survivors hold all of them, so each
    // instance's per-key socket cap must allow that (docs/deploy.md: size it for N-1 instances).
    WS_MAX_SOCKETS_PER_KEY: '1000',
    // HAProxy (deploy/haproxy.cfg) sends X-Forwarded-For from this machine.
    TRUST_PROXY: 'loopback',
    LOG_LEVEL: 'warn',
    ...env,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      return (await fetch(`${url}/readyz`)).status === 200;
    },
    `gateway on ${port} not ready`,
    process,
  ).catch((error: unknown) => {
    process.child.kill('SIGKILL');
    throw error;
  });
  return {
    ...process,
    url,
    address: `127.0.0.1:${port}`,
    async stop() {
      if (process.child.exitCode === null && process.child.signalCode === null) process.child.kill('SIGTERM');
      return process.exited;
    },
  };
}

export interface HAProxy extends Process {
  url: string;
  /** `UP`, `DOWN`, … of each server of the `gateways` backend, from the stats CSV */
  states(): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

/** Debian's HAProxy on deploy/haproxy.cfg, in front of these three gateway addresses. */
export async function startHAProxy(gateways: [string, string, string]): Promise<HAProxy> {
  if (!existsSync(HAPROXY)) {
    throw new Error(`${HAPROXY} not found: install Debian's haproxy (apt-get install haproxy; .ci/run does)`);
  }
  const [port, statsPort] = [await freePort(), await freePort()];
  const process = run(HAPROXY, ['-db', '-f', HAPROXY_CONFIG], {
    CSG_LISTEN: `127.0.0.1:${port}`,
    CSG_STATS: `127.0.0.1:${statsPort}`,
    CSG_GATEWAY_1: gateways[0],
    CSG_GATEWAY_2: gateways[1],
    CSG_GATEWAY_3: gateways[2],
  });
  const states = async () => {
    const csv = await (await fetch(`http://127.0.0.1:${statsPort}/stats;csv`)).text();
    const [header, ...rows] = csv.replace(/^# /, '').trim().split('\n');
    const columns = header!.split(',');
    const [px, sv, status] = ['pxname', 'svname', 'status'].map((name) => columns.indexOf(name));
    const result: Record<string, string> = {};
    for (const row of rows) {
      const cells = row.split(',');
      if (cells[px!] === 'gateways' && cells[sv!] !== 'BACKEND') result[cells[sv!]!] = cells[status!]!;
    }
    return result;
  };
  await waitFor(
    async () => {
      return Object.values(await states()).filter((s) => s === 'UP').length === 3;
    },
    'haproxy did not see three instances up',
    process,
  ).catch((error: unknown) => {
    process.child.kill('SIGKILL');
    throw error;
  });
  return {
    ...process,
    url: `http://127.0.0.1:${port}`,
    states,
    async stop() {
      if (process.child.exitCode === null) process.child.kill('SIGTERM');
      await process.exited;
    },
  };
}
