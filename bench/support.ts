import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createLogger } from '../src/logger';
import type { EmbeddedDatabase } from '../src/store/embedded-postgres';
import { startEmbeddedPostgres } from '../src/store/embedded-postgres';

export const ROOT = join(__dirname, '..');

/**
 * `bench/baseline-server.ts` with these arguments, in a process of its own (the load must not
 * share the measured server's event loop); resolves once it prints the port it listens on.
 */
export async function startBaselineServer(args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn('node', ['-r', '@swc-node/register', 'bench/baseline-server.ts', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      const m = /listening (\d+)/.exec(chunk.toString());
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`baseline server ${args[0]} exited ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

/** A database of the benchmark's own: on DATABASE_URL's server, else on an embedded one. */
export async function benchDatabase(): Promise<{ url: string; close(): Promise<void> }> {
  let embedded: EmbeddedDatabase | null = null;
  let dir: string | null = null;
  let admin = process.env.DATABASE_URL;
  if (!admin) {
    dir = mkdtempSync(join(tmpdir(), 'csg-bench-pg-'));
    embedded = await startEmbeddedPostgres(dir, createLogger('warn'));
    admin = embedded.url;
  }
  const name = `csg_bench_${randomBytes(4).toString('hex')}`;
  const client = new Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async close() {
      const c = new Client({ connectionString: admin });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
      await embedded?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The gateway as its own process (as in production), on port 0; resolves with its URL. */
export async function startGateway(
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<{ url: string; key: string; child: ChildProcess; stop(): Promise<void> }> {
  // BENCH_GATEWAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the gateway under load.
  const nodeArgs = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  // As `npm start` runs it: compiled JavaScript (what it costs in memory is part of the figures).
  execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const child = spawn('node', [...nodeArgs, 'dist/src/main.js'], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: '0',
      HOST: '127.0.0.1',
      RATE_LIMIT_RPS: '0',
      // Benchmarks hold thousands of subscribers on one key: no per-key socket cap unless asked.
      WS_MAX_SOCKETS_PER_KEY: '1000000',
      // ... nor a connection cap below what the live benchmark holds (10,000 sockets and its HTTP).
      MAX_CONNECTIONS: '100000',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  // Wait for the listening line (JSON lines: fields, then msg), then make a key with the CLI, as an
  // operator would: a start on an external database makes no demo workspace.
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      for (const line of output.split('\n')) {
        if (!line.includes('"gateway.listening"')) continue;
        clearInterval(timer);
        resolve((JSON.parse(line) as { url: string }).url);
        return;
      }
    }, 50);
    child.once('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`gateway exited ${code}: ${output}`));
    });
  });
  const key = execFileSync('node', ['dist/src/cli.js', 'api-key', 'create', '--workspace', 'bench'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
    encoding: 'utf8',
  }).trim();
  return {
    url,
    key,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** One HTTP request on a keep-alive agent (the tests' helper: exact bytes, no client-side checks). */
export { rawRequest as httpRequest } from '../test/support/raw-http';

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline?: string;
  baselineValue?: number;
  ratio?: number;
  target?: string;
  met?: boolean;
}

/** Prints the table and writes bench/results/NAME.json. */
export function report(name: string, figures: Figure[], context: Record<string, unknown>): void {
  const rows = figures.map((f) => [
    f.name,
    `${round(f.value)} ${f.unit}`,
    f.baseline ? `${f.baseline}: ${round(f.baselineValue ?? 0)}` : '',
    f.ratio !== undefined ? `${round(f.ratio)}x` : '',
    f.target ?? '',
    f.met === undefined ? '' : f.met ? 'met' : 'NOT MET',
  ]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows) process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i]!)).join('  ')}\n`);
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(
    join(ROOT, 'bench', 'results', `${name}.json`),
    `${JSON.stringify({ benchmark: name, at: new Date().toISOString(), ...context, figures }, null, 2)}\n`,
  );
}

const round = (n: number) => (Math.abs(n) >= 100 ? Math.round(n) : Math.round(n * 100) / 100);

/**
 * A figure against a baseline measured in the same run: `ratio` is value / baseline, and with a
 * bound, `met` says whether the ratio keeps it (the target's words are the figure's `target`).
 */
export function against(
  figure: Omit<Figure, 'ratio' | 'met'> & { baselineValue: number },
  bound?: { atLeast: number } | { atMost: number },
): Figure {
  const ratio = figure.value / figure.baselineValue;
  if (!bound) return { ...figure, ratio };
  return { ...figure, ratio, met: 'atLeast' in bound ? ratio >= bound.atLeast : ratio <= bound.atMost };
}
