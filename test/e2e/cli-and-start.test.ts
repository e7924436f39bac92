import { execFile, spawn } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { DEMO_CAMPAIGN_ID } from '../../src/demo/demo-seed';
import { phones } from '../factories/campaign.factory';
import { createTestDatabase } from '../support/database';
import { gql, restStats } from '../support/http';
import { storedAndRecounted } from '../support/recount';
import type { TestApp } from '../support/test-app';
import { TEST_APP_SECRET, startTestApp } from '../support/test-app';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const NODE_ARGS = ['-r', '@swc-node/register'];

function cli(args: string[], env: Record<string, string>) {
  return run('node', [...NODE_ARGS, 'src/cli.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env } });
}

describe('the API key CLI', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.stop());

  it('prints the new key alone; the key works; revocation takes effect within seconds', async () => {
    const created = await cli(['api-key', 'create', '--workspace', 'cli-made'], { DATABASE_URL: t.databaseUrl });
    expect(created.stdout).toMatch(/^wapl_[0-9A-Za-z]{40}\n$/);
    const key = created.stdout.trim();
    // Only the hash and the 13-character prefix are stored; the secret part is nowhere in the row.
    const rows = await t.db.query(`SELECT a::text AS row, key_hash FROM api_keys a WHERE prefix = $1`, [
      key.slice(0, 13),
    ]);
    expect(rows).toHaveLength(1);
    expect(rows[0].key_hash).toBe(createHash('sha256').update(key).digest('hex'));
    expect(rows[0].row).not.toContain(key.slice(13));
    const answer = await restStats(t.url, key, 'aaaaaaaaaaaaaaaaaaaaaaaa');
    expect(answer.status).toBe(404);
    await cli(['api-key', 'revoke', key.slice(0, 13)], { DATABASE_URL: t.databaseUrl });
    await new Promise((r) => setTimeout(r, 5200)); // the lookup cache's lifetime
    expect((await restStats(t.url, key, 'aaaaaaaaaaaaaaaaaaaaaaaa')).status).toBe(401);
  });

  it('reconcile reports counter drift, exits 1, and repairs it with --fix', async () => {
    const contacts = phones(2);
    const { id } = await t.app.services.campaigns.create(t.workspaceId, { name: 'drift', contacts });
    await t.db.query(
      `UPDATE campaign_contacts SET flags = 32, failure_code = 131026, failure_title = 'x'
       WHERE campaign_id = $1 AND phone = $2`,
      [id, contacts[0]],
    );
    const env = { DATABASE_URL: t.databaseUrl };
    const drifted = await cli(['reconcile', id], env).then(
      () => null,
      (error: { code: number; stdout: string }) => error,
    );
    expect(drifted?.code).toBe(1);
    const line = JSON.parse(drifted!.stdout.trim());
    expect(line).toMatchObject({
      campaignId: id,
      drift: true,
      fixed: false,
      stored: { failed: 0 },
      recounted: { failed: 1 },
    });
    const fixed = await cli(['reconcile', id, '--fix'], env);
    expect(JSON.parse(fixed.stdout.trim())).toMatchObject({ drift: true, fixed: true });
    const clean = await cli(['reconcile', id], env);
    expect(JSON.parse(clean.stdout.trim())).toMatchObject({ drift: false, recountedReasons: { 131026: 1 } });
    const [counters] = await t.db.query(`SELECT failed, touched FROM campaign_counters WHERE campaign_id = $1`, [id]);
    expect(counters).toEqual({ failed: 1, touched: 1 });
  });

  it('simulate drives a rollout through the events endpoint and the signed webhook to consistent numbers', async () => {
    await t.bindNumber('100000000000001', 'test-workspace'); // the simulator's number
    const simulated = await run(
      'node',
      [...NODE_ARGS, 'src/tools/simulate.ts', '--contacts', '300', '--rate', '3000', '--target', t.url, '--key', t.key],
      {
        cwd: ROOT,
        env: { ...process.env, WHATSAPP_APP_SECRET: TEST_APP_SECRET },
      },
    );
    const stats = JSON.parse(simulated.stdout);
    expect(stats).toMatchObject({ status: 'success', total_contacts: 300, campaign_status: 'running' });
    expect(stats.sent_count).toBe(300);
    expect(stats.delivered_count).toBeGreaterThan(200);
    expect(stats.read_count).toBeGreaterThan(100);
    expect(simulated.stderr).toContain('100% ');
    expect(simulated.stderr).not.toContain('dispatcher events instead'); // the webhook path was used
    const [{ n: parked }] = await t.db.query(`SELECT count(*)::int AS n FROM parked_deliveries`);
    expect(parked).toBe(0); // late registrations picked up everything parked
    const { stored, recounted } = await storedAndRecounted(t.db, stats.campaign_id);
    expect(stored).toEqual(recounted);
    // The URL-button taps went through the tracked link's redirect: the link counts them, and
    // every contact it counts is counted clicked in the stats too.
    expect(simulated.stderr).toMatch(/tracked link [0-9a-f]{24} for https:\/\/example\.com\/summer-sale/);
    const links = await gql(t.url, t.key, 'query($c: ID!) { trackedLinks(campaignId: $c) { url clicks } }', {
      c: stats.campaign_id,
    });
    expect(links.body.data.trackedLinks).toEqual([
      { url: 'https://example.com/summer-sale', clicks: expect.any(Number) },
    ]);
    const linkClicks: number = links.body.data.trackedLinks[0].clicks;
    expect(linkClicks).toBeGreaterThan(0);
    expect(stats.clicked_count).toBeGreaterThanOrEqual(linkClicks);
  });

  it('simulate with no --key makes one in the demo workspace and prints it, so the demo key sees the campaign too', async () => {
    const demo = await t.newKey('demo'); // as npm start's first run made it
    const simulated = await run(
      'node',
      [...NODE_ARGS, 'src/tools/simulate.ts', '--contacts', '50', '--rate', '3000', '--target', t.url],
      { cwd: ROOT, env: { ...process.env, WHATSAPP_APP_SECRET: TEST_APP_SECRET, DATABASE_URL: t.databaseUrl } },
    );
    const printed = /made a key in workspace demo \(paste it in the dashboard\): (wapl_[0-9A-Za-z]{40})\n/.exec(
      simulated.stderr,
    );
    expect(printed).not.toBeNull();
    const stats = JSON.parse(simulated.stdout);
    expect(stats.total_contacts).toBe(50);
    for (const key of [printed![1]!, demo.key]) {
      expect((await restStats(t.url, key, stats.campaign_id)).json.total_contacts).toBe(50);
    }
    // Another workspace's key does not see it: the key was made in demo, not in a workspace of its own.
    expect((await restStats(t.url, t.key, stats.campaign_id)).status).toBe(404);
  });

  it('refuses bad usage with a message on standard error', async () => {
    await expect(cli(['api-key', 'create'], { DATABASE_URL: t.databaseUrl })).rejects.toMatchObject({
      code: 2,
      stdout: '',
      stderr: expect.stringContaining('usage'),
    });
  });

  it('prints the usage on standard output and exits 0 for --help, -h and help', async () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const { stdout, stderr } = await cli(args, { DATABASE_URL: t.databaseUrl });
      expect([args, stdout.startsWith('usage:\n'), stderr]).toEqual([args, true, '']);
      expect(stdout).toContain('cli api-key create --workspace NAME');
      expect(stdout).toContain('cli webhook sign FILE');
    }
  });

  it('webhook sign prints the X-Hub-Signature-256 value of a file with WHATSAPP_APP_SECRET, the one the webhook accepts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'csg-sign-'));
    try {
      const file = join(dir, 'body.json');
      // Bytes as they are: a trailing space and no final newline are signed too.
      const body = '{"object":"whatsapp_business_account","entry":[]} ';
      writeFileSync(file, body);
      const signed = await cli(['webhook', 'sign', file], { WHATSAPP_APP_SECRET: TEST_APP_SECRET });
      expect(signed.stdout).toBe(`sha256=${createHmac('sha256', TEST_APP_SECRET).update(body).digest('hex')}\n`);
      const answer = await fetch(`${t.url}/webhooks/whatsapp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signed.stdout.trim() },
        body,
      });
      expect(answer.status).toBe(200);
      const env = { ...process.env };
      delete env.WHATSAPP_APP_SECRET;
      await expect(
        run('node', [...NODE_ARGS, 'src/cli.ts', 'webhook', 'sign', file], { cwd: ROOT, env }),
      ).rejects.toMatchObject({ code: 2, stdout: '', stderr: expect.stringContaining('WHATSAPP_APP_SECRET') });
      for (const args of [['webhook'], ['webhook', 'sign'], ['webhook', 'verify', file]]) {
        await expect(cli(args, { WHATSAPP_APP_SECRET: 'x' })).rejects.toMatchObject({ code: 2, stdout: '' });
      }
      await expect(
        cli(['webhook', 'sign', join(dir, 'missing.json')], { WHATSAPP_APP_SECRET: 'x' }),
      ).rejects.toMatchObject({ code: 1, stdout: '', stderr: expect.stringContaining('ENOENT') });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers an unknown command or option with the usage on standard error, exit 2', async () => {
    for (const args of [['bogus'], ['api-key', 'create', '--workspace', 'x', '--bogus'], ['reconcile', '--fix=yes']]) {
      await expect(cli(args, { DATABASE_URL: t.databaseUrl })).rejects.toMatchObject({
        code: 2,
        stdout: '',
        stderr: expect.stringContaining('usage:'),
      });
    }
  });

  it('revokes a key given whole, as create printed it, and nothing for a whole key that is not live', async () => {
    const env = { DATABASE_URL: t.databaseUrl };
    const key = (await cli(['api-key', 'create', '--workspace', 'cli-revoke-whole'], env)).stdout.trim();
    const revokedAt = async () =>
      (
        await t.db.query(`SELECT revoked_at FROM api_keys WHERE key_hash = $1`, [
          createHash('sha256').update(key).digest('hex'),
        ])
      )[0].revoked_at;
    // Same prefix, another secret: not this key, so it stays live.
    const forged = key.slice(0, 13) + (key[13] === 'A' ? 'B' : 'A') + key.slice(14);
    await expect(cli(['api-key', 'revoke', forged], env)).rejects.toMatchObject({
      code: 1,
      stderr: 'revoked 0 key(s)\n',
    });
    expect(await revokedAt()).toBeNull();
    const revoked = await cli(['api-key', 'revoke', key], env);
    expect([revoked.stdout, revoked.stderr]).toEqual(['', 'revoked 1 key(s)\n']);
    expect(await revokedAt()).toBeInstanceOf(Date);
  });

  it('reconcile of a well-formed id that names no campaign exits 1 with a message on standard error', async () => {
    const missing = 'aaaaaaaaaaaaaaaaaaaaaaaa';
    await expect(cli(['reconcile', missing], { DATABASE_URL: t.databaseUrl })).rejects.toMatchObject({
      code: 1,
      stdout: '',
      stderr: `reconcile: no campaign ${missing}\n`,
    });
  });
});

/** `npm start`'s code (src/main.ts) as a child process; resolves once it listens (and, embedded, has seeded). */
function startGateway(
  env: Record<string, string>,
  children: ChildProcess[],
): Promise<{ child: ChildProcess; url: string; log: () => string }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, PORT: '0', LOG_LEVEL: 'info', ...env };
  if (!env.DATABASE_URL) delete childEnv.DATABASE_URL;
  const child = spawn('node', [...NODE_ARGS, 'src/main.ts'], { cwd: ROOT, env: childEnv });
  children.push(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      const listening = /"url":"([^"]+)"[^\n]*"msg":"gateway.listening"/.exec(output);
      const seeded = env.DATABASE_URL || output.includes('demo.api_key') || output.includes('"fresh":false');
      if (listening && seeded) {
        clearInterval(timer);
        // The demo is seeded after the listening line: give a start that would seed the time to.
        setTimeout(() => resolve({ child, url: listening[1]!, log: () => output }), env.DATABASE_URL ? 1500 : 0);
      }
    }, 100);
    child.once('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`exited ${code}: ${output}`));
    });
  });
}

/** Runs main.ts to its exit; its code and everything it wrote. */
function runGatewayToExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, PORT: '0', LOG_LEVEL: 'info', ...env };
  delete childEnv.DATABASE_URL;
  const child = spawn('node', [...NODE_ARGS, 'src/main.ts'], { cwd: ROOT, env: childEnv });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, output });
    }),
  );
}

describe('npm start on the embedded default', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'csg-start-'));
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });
  const start = () => startGateway({ DATA_DIR: dataDir }, children);

  it('prints a demo key, seeds the reference campaign under the README id, refuses a second start on the same folder, survives a SIGKILL (recovering the server left behind), and stops cleanly', async () => {
    const first = await start();
    const key = /"apiKey":"(wapl_[0-9A-Za-z]+)"/.exec(first.log())![1]!;
    const campaignId = /"workspace":"demo","campaignId":"([0-9a-f]{24})"[^\n]*"msg":"demo.seeded"/.exec(
      first.log(),
    )![1]!;
    expect(campaignId).toBe(DEMO_CAMPAIGN_ID);
    expect(campaignId).toBe('507f1f77bcf86cd799439060'); // the README's id, literally
    expect((await restStats(first.url, key, campaignId)).json.sent_count).toBe(1998);
    // The number of the docs' signed webhook example is the demo's, so the example works as written.
    const numbers = await gql(first.url, key, '{ whatsAppNumbers { phoneNumberId } }');
    expect(numbers.body.data!.whatsAppNumbers).toEqual([{ phoneNumberId: '106540352242922' }]);

    // A second start on the same folder while the first runs: refused with a message, first untouched.
    const firstPid = first.child.pid!;
    const firstPort = Number(new URL(first.url).port);
    const refused = await runGatewayToExit({ DATA_DIR: dataDir });
    expect(refused.code).toBe(1);
    expect(refused.output).toContain(`a gateway is already running on ${dataDir} (pid ${firstPid}, port ${firstPort})`);
    expect(refused.output).not.toContain('stopping_leftover');
    expect(refused.output).not.toMatch(/\n\s+at /); // no stack
    expect(first.child.exitCode).toBeNull();
    expect((await restStats(first.url, key, campaignId)).json.read_count).toBe(1204);
    expect((await fetch(`${first.url}/readyz`)).status).toBe(200);

    first.child.kill('SIGKILL'); // leaves the embedded PostgreSQL running, holding the data directory
    await new Promise((r) => first.child.once('exit', r));

    // The lock names a dead pid now: taken over, and the server left behind is stopped as before.
    const second = await start();
    expect(second.log()).toContain('embedded_postgres.stopping_leftover');
    expect(second.log()).not.toContain('demo.api_key'); // data kept: the demo is made once
    expect((await restStats(second.url, key, campaignId)).json.replied_count).toBe(41);

    second.child.kill('SIGTERM');
    const code = await new Promise((r) => second.child.once('exit', r));
    expect(code).toBe(0);
    expect(second.log()).toContain('"msg":"gateway.stopped"');
    expect(existsSync(join(dataDir, 'gateway.lock'))).toBe(false); // released on a clean stop
  });

  it('takes over a lock whose pid is dead, or alive but not a Node process (reused)', async () => {
    const sleeper = spawn('sleep', ['60']);
    try {
      for (const pid of [2 ** 22 + 12345, sleeper.pid!]) {
        writeFileSync(join(dataDir, 'gateway.lock'), JSON.stringify({ pid, port: 4000 }));
        const started = await start();
        expect(started.log()).not.toContain('already running');
        started.child.kill('SIGTERM');
        expect(await new Promise((r) => started.child.once('exit', r))).toBe(0);
      }
    } finally {
      sleeper.kill('SIGKILL');
    }
  });
});

describe('two npm starts at once on a fresh data folder', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'csg-race-'));
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('lets exactly one of them run; the other exits 1 naming it', async () => {
    const outcomes = await Promise.allSettled([
      startGateway({ DATA_DIR: dataDir }, children),
      startGateway({ DATA_DIR: dataDir }, children),
    ]);
    const running = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect([running.length, refused.length]).toEqual([1, 1]);
    expect(String(refused[0]!.reason)).toMatch(/exited 1: gateway not started: a gateway is already running on /);
    const winner = (running[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof startGateway>>>).value;
    expect((await fetch(`${winner.url}/readyz`)).status).toBe(200);
    winner.child.kill('SIGTERM');
    expect(await new Promise((r) => winner.child.once('exit', r))).toBe(0);
  });
});

describe('npm start on an external database (DATABASE_URL)', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  });

  it('makes no demo workspace, key or campaign, even with NODE_ENV=production, and prints no key', async () => {
    const database = await createTestDatabase();
    try {
      const started = await startGateway({ DATABASE_URL: database.url, NODE_ENV: 'production' }, children);
      expect((await fetch(`${started.url}/readyz`)).status).toBe(200);
      started.child.kill('SIGTERM');
      expect(await new Promise((r) => started.child.once('exit', r))).toBe(0);
      expect(started.log()).not.toContain('demo.');
      expect(started.log()).not.toMatch(/wapl_/);
      const client = new Client({ connectionString: database.url });
      await client.connect();
      try {
        const counts = await client.query(
          `SELECT (SELECT count(*)::int FROM workspaces) AS workspaces, (SELECT count(*)::int FROM api_keys) AS keys,
                  (SELECT count(*)::int FROM campaigns) AS campaigns`,
        );
        expect(counts.rows[0]).toEqual({ workspaces: 0, keys: 0, campaigns: 0 });
        // Migrated all the same: the start did run against this database.
        const tables = await client.query(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'campaigns'`);
        expect(tables.rows[0].n).toBe(1);
      } finally {
        await client.end();
      }
    } finally {
      await database.drop();
    }
  });
});
