// The README's examples, run as pasted: every ```sh block in bash against a gateway seeded the way
// the first `npm start` seeds the embedded default (the demo key, the reference campaign under the
// README's id), every operation of the ```graphql block by its operationName. A line `# …` under a
// command is what the README says it prints: checked (a JSON object as a subset, anything else exactly).
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kind, parse } from 'graphql';
import type { OperationDefinitionNode } from 'graphql';
import type { App } from '../../src/app';
import { buildApp } from '../../src/app';
import { DEMO_CAMPAIGN_ID, DEMO_LINK_URL, seedDemoOnFirstStart } from '../../src/demo/demo-seed';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { WorkspaceStore } from '../../src/store/workspace.store';
import { openTestDatabase } from '../support/database';
import { gql } from '../support/http';
import { TEST_APP_CONFIG } from '../support/test-app';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const README_URL = 'http://localhost:4000';
const KEY_LINE = 'export KEY=wapl_…';
const STEP_MARK = '@@README-STEP@@';

/** The fenced blocks of one language, in order. */
function blocks(language: string): string[] {
  return [...README.matchAll(/^```(\S+)\n([\s\S]*?)^```$/gm)].filter((m) => m[1] === language).map((m) => m[2]!);
}

/**
 * Blocks that start or test the gateway itself (a person runs them once, in a terminal of their
 * own): not run here. Every other sh block is. The list is exact, so a new block that this test
 * cannot run fails it instead of being skipped quietly.
 */
const NOT_RUN_HERE = [
  'npm install && npm start',
  'WHATSAPP_APP_SECRET=dev-secret npm start',
  'npm run typecheck && npm run lint && npm run format:check && npm test',
];

/** A block split where the README shows an output: [code, expected output or null]. */
function steps(block: string): { code: string; expected: string | null }[] {
  const result: { code: string; expected: string | null }[] = [];
  let code: string[] = [];
  for (const line of block.split('\n')) {
    const shown = /^# (.+)$/.exec(line);
    if (shown) {
      result.push({ code: code.join('\n'), expected: shown[1]! });
      code = [];
    } else code.push(line);
  }
  if (code.join('').trim() !== '') result.push({ code: code.join('\n'), expected: null });
  return result;
}

describe('the README examples, as pasted', () => {
  let app: App;
  let url: string;
  let key: string;
  let databaseUrl: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const database = await openTestDatabase();
    databaseUrl = database.url;
    const logger = createLogger('silent');
    app = await buildApp(
      { ...TEST_APP_CONFIG, whatsappAppSecret: 'dev-secret' /* as the README starts it */, whatsappVerifyToken: null },
      database.db,
      logger,
    );
    url = await app.start(0);
    // Exactly what the first `npm start` on the embedded default does.
    const demo = await seedDemoOnFirstStart(app, new WorkspaceStore(database.db), logger);
    key = demo!.key;
    expect(demo!.campaignId).toBe(DEMO_CAMPAIGN_ID);
    // The demo's URL button has its tracked link; the reference clicks are seeded as events, not through it.
    const links = await gql(url, key, 'query($c: ID!) { trackedLinks(campaignId: $c) { url clicks } }', {
      c: DEMO_CAMPAIGN_ID,
    });
    expect(links.body.data.trackedLinks).toEqual([{ url: DEMO_LINK_URL, clicks: 0 }]);
    close = async () => {
      await app.stop();
      await database.close();
    };
  });
  afterAll(async () => {
    rmSync(join(ROOT, 'status.json'), { force: true }); // written by the webhook example
    rmSync(join(ROOT, 'failed.csv'), { force: true }); // written by the export example
    await close();
  });

  it('uses the reference id, the placeholder key line and one base URL throughout', () => {
    expect(README).toContain(KEY_LINE);
    expect(README).toContain(DEMO_CAMPAIGN_ID);
    for (const block of [...blocks('sh'), ...blocks('graphql')]) expect(block).not.toContain('127.0.0.1');
  });

  it('runs every sh block, and each prints what the README shows under it', async () => {
    const sh = blocks('sh');
    const skipped = sh.filter((block) => NOT_RUN_HERE.some((first) => block.startsWith(first)));
    expect(skipped.map((block) => block.split('\n')[0]!.split('#')[0]!.trim())).toEqual([
      'npm install && npm start',
      'WHATSAPP_APP_SECRET=dev-secret npm start',
      'npm run typecheck && npm run lint && npm run format:check && npm test',
    ]);
    const runnable = sh.filter((block) => !skipped.includes(block));
    expect(runnable.length).toBeGreaterThanOrEqual(6);
    let checked = 0;
    for (const block of runnable) {
      const parts = steps(block.replaceAll(KEY_LINE, `export KEY=${key}`).replaceAll(README_URL, url));
      const script = parts.map((part) => `${part.code}\nprintf '\\n${STEP_MARK}\\n'`).join('\n');
      const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', script], {
        cwd: ROOT,
        env: { ...process.env, KEY: key, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
        timeout: 60_000,
      }).catch((error: { stdout: string; stderr: string }) => {
        throw new Error(`README block failed:\n${block}\nstdout: ${error.stdout}\nstderr: ${error.stderr}`);
      });
      const outputs = stdout.split(`\n${STEP_MARK}\n`);
      parts.forEach((part, i) => {
        if (part.expected === null) return;
        const output = outputs[i]!.trim();
        const context = { block: part.code.trim(), output };
        if (part.expected.startsWith('{')) {
          expect({ ...context, json: JSON.parse(output) }).toMatchObject({
            ...context,
            json: JSON.parse(part.expected),
          });
        } else expect(context).toEqual({ ...context, output: part.expected });
        checked++;
      });
    }
    expect(checked).toBeGreaterThanOrEqual(8);
  });

  it('runs every operation of the graphql block by its operationName, the lifecycle included', async () => {
    const [block] = blocks('graphql');
    expect(blocks('graphql')).toHaveLength(1);
    const operations = parse(block!).definitions.filter(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
    );
    // Pasted together, the operations must all be named (one unnamed operation makes the document unrunnable).
    expect(operations.every((o) => o.name !== undefined)).toBe(true);
    const PLAN = [
      ['CampaignStats'],
      ['Campaigns'],
      ['CampaignTimeline'],
      ['CreateCampaign', 'AddCampaignContacts', 'ScheduleCampaign', 'StartCampaign', 'CompleteCampaign'],
      ['CreateCampaign', 'CancelCampaign'],
      ['CreateCampaign', 'StartCampaign', 'FailCampaign'],
    ];
    expect([...new Set(PLAN.flat())].sort()).toEqual(operations.map((o) => o.name!.value).sort());
    const results: Record<string, any> = {};
    for (const sequence of PLAN) {
      let id: string | undefined;
      for (const operationName of sequence) {
        const declared = operations.find((o) => o.name!.value === operationName)!.variableDefinitions ?? [];
        const values: Record<string, unknown> = { id, at: '2030-01-01T09:00:00Z' };
        const variables = Object.fromEntries(
          declared.map((v) => [v.variable.name.value, values[v.variable.name.value]]),
        );
        const response = await fetch(`${url}/graphql`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ query: block, operationName, variables }),
        });
        const body = (await response.json()) as { data?: any; errors?: unknown[] };
        expect({ operationName, status: response.status, errors: body.errors }).toEqual({
          operationName,
          status: 200,
          errors: undefined,
        });
        if (operationName === 'CreateCampaign') id = body.data.createCampaign.id;
        results[`${sequence[sequence.length - 1]}:${operationName}`] = body.data;
      }
    }
    expect(results['CampaignStats:CampaignStats'].campaignStats).toMatchObject({ sentCount: 1998, repliedCount: 41 });
    expect(results['Campaigns:Campaigns'].campaigns.edges.map((e: any) => e.node.id)).toContain(DEMO_CAMPAIGN_ID);
    const timeline = results['CampaignTimeline:CampaignTimeline'].campaignTimeline as { sent: number }[];
    expect(timeline.reduce((sum, point) => sum + point.sent, 0)).toBe(1998);
    expect(results['CompleteCampaign:AddCampaignContacts'].addCampaignContacts.stats.totalContacts).toBe(3);
    expect(results['CompleteCampaign:ScheduleCampaign'].scheduleCampaign.status).toBe('SCHEDULED');
    expect(results['CompleteCampaign:CompleteCampaign'].completeCampaign.status).toBe('COMPLETED');
    expect(results['CancelCampaign:CancelCampaign'].cancelCampaign.status).toBe('CANCELLED');
    expect(results['FailCampaign:FailCampaign'].failCampaign.status).toBe('FAILED');
  });

  it('runs the js block (graphql-ws on Node 20) and it prints the live stats', async () => {
    const [snippet] = blocks('js');
    expect(blocks('js')).toHaveLength(1);
    const dir = join(ROOT, 'test-artifacts'); // inside the repository: its node_modules resolve the imports
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'readme-snippet.mjs');
    writeFileSync(file, snippet!.replaceAll('ws://localhost:4000', url.replace('http', 'ws')));
    const child = spawn('node', [file], { cwd: ROOT, env: { ...process.env, KEY: key } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const deadline = Date.now() + 20_000;
      while (!output.includes('sentCount: 1998') && child.exitCode === null && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(output).toContain('sentCount: 1998');
      expect(output).not.toMatch(/Error/);
    } finally {
      child.kill('SIGKILL');
      rmSync(file, { force: true });
    }
  });

  it("serves a query in urql's default GET form: query, operationName and variables in the URL, no content-type", async () => {
    const search = new URLSearchParams({
      query: 'query Sent($id: ID!) { campaignStats(campaignId: $id) { sentCount } }',
      operationName: 'Sent',
      variables: JSON.stringify({ id: DEMO_CAMPAIGN_ID }),
    });
    const response = await fetch(`${url}/graphql?${search.toString()}`, {
      headers: { authorization: `Bearer ${key}`, accept: 'application/graphql-response+json, application/json' },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { campaignStats: { sentCount: 1998 } } });

    // The same form for a mutation is refused and changes nothing.
    const mutation = new URLSearchParams({
      query: 'mutation Cancel($id: ID!) { cancelCampaign(id: $id) { status } }',
      operationName: 'Cancel',
      variables: JSON.stringify({ id: DEMO_CAMPAIGN_ID }),
    });
    const refused = await fetch(`${url}/graphql?${mutation.toString()}`, {
      headers: { authorization: `Bearer ${key}`, accept: 'application/graphql-response+json, application/json' },
    });
    expect(refused.status).toBe(405);
    // Without the Authorization header, the same query is not served.
    const anonymous = await fetch(`${url}/graphql?${search.toString()}`, {
      headers: { accept: 'application/graphql-response+json, application/json' },
    });
    expect(anonymous.status).toBeGreaterThanOrEqual(400);
    expect(anonymous.status).toBeLessThan(500);
  });
});

describe('.env.example', () => {
  const example = readFileSync(join(ROOT, '.env.example'), 'utf8');
  const listed = [...example.matchAll(/^# ([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => ({ name: m[1]!, value: m[2]! }));

  it('lists every variable src/config.ts reads', () => {
    const source = readFileSync(join(ROOT, 'src', 'config.ts'), 'utf8');
    const read = [...new Set([...source.matchAll(/\b(?:text|integer|url)\('([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]!))];
    expect(read.length).toBeGreaterThanOrEqual(16);
    expect(read.filter((name) => !listed.some((l) => l.name === name))).toEqual([]);
  });

  it('gives each its real default: setting the value shown changes nothing', () => {
    const examplesNotDefaults = ['DATABASE_URL', 'REDIS_URL'];
    const defaults = loadConfig({});
    for (const { name, value } of listed) {
      if (value === '' || examplesNotDefaults.includes(name)) continue;
      expect({ name, config: loadConfig({ [name]: value }) }).toEqual({ name, config: defaults });
    }
    expect(listed.filter((l) => l.value !== '').length).toBeGreaterThanOrEqual(14);
  });
});
