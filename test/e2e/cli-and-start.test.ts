import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { phones } from '../factories/campaign.factory';
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

describe('npm start on the embedded default', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'csg-start-'));
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  function start(): Promise<{ child: ChildProcess; url: string; log: () => string }> {
    const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info' };
    delete env.DATABASE_URL;
    const child = spawn('node', [...NODE_ARGS, 'src/main.ts'], { cwd: ROOT, env });
    children.push(child);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    return new Promise((resolve, reject) => {
      const timer = setInterval(() => {
        const listening = /"url":"([^"]+)"[^\n]*"msg":"gateway.listening"/.exec(output);
        const seeded = output.includes('demo.api_key') || output.includes('"fresh":false');
        if (listening && seeded) {
          clearInterval(timer);
          resolve({ child, url: listening[1]!, log: () => output });
        }
      }, 100);
      child.once('exit', (code) => {
        clearInterval(timer);
        reject(new Error(`exited ${code}: ${output}`));
      });
    });
  }

  it('prints a demo key, survives a SIGKILL (recovering the server left behind), and stops cleanly', async () => {
    const first = await start();
    const key = /"apiKey":"(wapl_[0-9A-Za-z]+)"/.exec(first.log())![1]!;
    const campaignId = /"workspace":"demo","campaignId":"([0-9a-f]{24})"[^\n]*"msg":"demo.seeded"/.exec(
      first.log(),
    )![1]!;
    expect((await restStats(first.url, key, campaignId)).json.sent_count).toBe(1998);
    // The number of the docs' signed webhook example is the demo's, so the example works as written.
    const numbers = await gql(first.url, key, '{ whatsAppNumbers { phoneNumberId } }');
    expect(numbers.body.data!.whatsAppNumbers).toEqual([{ phoneNumberId: '106540352242922' }]);

    first.child.kill('SIGKILL'); // leaves the embedded PostgreSQL running, holding the data directory
    await new Promise((r) => first.child.once('exit', r));

    const second = await start();
    expect(second.log()).toContain('embedded_postgres.stopping_leftover');
    expect(second.log()).not.toContain('demo.api_key'); // data kept: the demo is made once
    expect((await restStats(second.url, key, campaignId)).json.replied_count).toBe(41);

    second.child.kill('SIGTERM');
    const code = await new Promise((r) => second.child.once('exit', r));
    expect(code).toBe(0);
    expect(second.log()).toContain('"msg":"gateway.stopped"');
  });
});
