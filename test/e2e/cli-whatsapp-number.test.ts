import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestApp } from '../support/test-app';
import { startTestApp } from '../support/test-app';
import { TEST_PHONE_NUMBER_ID, postWebhook, webhookBody } from '../support/whatsapp';
import { phones } from '../factories/campaign.factory';
import { postEvents, restStats } from '../support/http';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');

describe('the whatsapp-number CLI', () => {
  let t: TestApp;
  let cli: (...args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;
  beforeAll(async () => {
    t = await startTestApp();
    cli = (...args) =>
      run('node', ['-r', '@swc-node/register', 'src/cli.ts', ...args], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: t.databaseUrl },
      }).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
  });
  afterAll(() => t.stop());

  it('add binds a number to a workspace it makes if new; the webhook then reads that number’s changes there', async () => {
    const added = await cli('whatsapp-number', 'add', '400000000000004', '--workspace', 'cli-numbers');
    expect(added).toMatchObject({ code: 0, stdout: '', stderr: 'bound 400000000000004 to workspace cli-numbers\n' });
    // The workspace is the one a key of that name then gets.
    const { key, workspaceId } = await t.newKey('cli-numbers');
    const [contact] = phones(1);
    const campaign = (await t.app.services.campaigns.create(workspaceId, { name: 'cli', contacts: [contact!] })).id;
    expect(
      (await postEvents(t.url, key, { type: 'message.sent', campaign_id: campaign, contact, message_id: 'wamid.cli' }))
        .status,
    ).toBe(200);
    const r = await postWebhook(
      t.url,
      webhookBody([{ id: 'wamid.cli', status: 'read', timestamp: 1781517960 }], [], '400000000000004'),
    );
    expect(r.json).toEqual({ status: 'success', facts: 1, ignored: 0 });
    expect((await restStats(t.url, key, campaign)).json.read_count).toBe(1);
  });

  it('add again to the same workspace is a no-op (exit 0); to another workspace it is refused with exit 1', async () => {
    await cli('whatsapp-number', 'add', '500000000000005', '--workspace', 'owner');
    expect(await cli('whatsapp-number', 'add', '500000000000005', '--workspace', 'owner')).toMatchObject({
      code: 0,
      stderr: '500000000000005 is bound to workspace owner already\n',
    });
    expect(await cli('whatsapp-number', 'add', '500000000000005', '--workspace', 'thief')).toMatchObject({
      code: 1,
      stdout: '',
      stderr:
        'whatsapp-number add: 500000000000005 is bound to workspace owner; remove it there first (whatsapp-number remove 500000000000005)\n',
    });
    // Refused before anything was made: no `thief` workspace.
    expect(await t.db.query(`SELECT 1 FROM workspaces WHERE name = 'thief'`)).toEqual([]);
  });

  it('list prints every binding; remove unbinds (exit 1 when there was nothing to remove)', async () => {
    await cli('whatsapp-number', 'add', '600000000000006', '--workspace', 'listed');
    const listed = await cli('whatsapp-number', 'list');
    expect(listed.code).toBe(0);
    const lines = listed.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    expect(lines.map((l) => l.slice(0, 2))).toEqual(
      expect.arrayContaining([
        [TEST_PHONE_NUMBER_ID, 'test-workspace'],
        ['600000000000006', 'listed'],
      ]),
    );
    expect(lines.every((l) => !Number.isNaN(Date.parse(l[2]!)))).toBe(true);
    expect(await cli('whatsapp-number', 'remove', '600000000000006')).toMatchObject({
      code: 0,
      stderr: 'removed 600000000000006\n',
    });
    expect(await cli('whatsapp-number', 'remove', '600000000000006')).toMatchObject({
      code: 1,
      stderr: '600000000000006 is bound to no workspace\n',
    });
    expect((await cli('whatsapp-number', 'list')).stdout).not.toContain('600000000000006');
  });

  it.each([
    [['whatsapp-number'], 'whatsapp-number: no command'],
    [['whatsapp-number', 'bogus'], 'whatsapp-number: unknown command bogus'],
    [['whatsapp-number', 'add', '123'], 'whatsapp-number add: --workspace NAME is required'],
    [['whatsapp-number', 'add', '--workspace', 'x'], 'whatsapp-number add: PHONE_NUMBER_ID is required'],
    [['whatsapp-number', 'add', '12a', '--workspace', 'x'], 'whatsapp-number add: PHONE_NUMBER_ID must be digits'],
    [['whatsapp-number', 'remove', '1', '2'], 'whatsapp-number remove: unexpected argument 2'],
    [['whatsapp-number', 'list', '--workspace', 'x'], 'whatsapp-number list: --workspace does not apply here'],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const answer = await cli(...args);
    expect(answer).toMatchObject({ code: 2, stdout: '' });
    expect(answer.stderr).toContain(message);
  });

  it('the usage names the commands', async () => {
    expect((await cli('--help')).stdout).toContain('cli whatsapp-number add PHONE_NUMBER_ID --workspace NAME');
  });
});
