// npm run simulate -- [--contacts 2000] [--rate 200] [--target URL] [--key KEY] [--phone-number-id ID]
// Creates a campaign through the public API and drives a realistic rollout through the dispatcher
// events endpoint and the signed WhatsApp webhook, with URL-button taps through a tracked link's
// redirect (/r/{token}), then prints the final REST stats.
import 'reflect-metadata';
import { randomInt } from 'node:crypto';
import { ApiKeysService } from '../auth/api-keys.service';
import { WhatsAppNumbersService } from '../auth/whatsapp-numbers.service';
import { loadConfig } from '../config';
import { signWhatsAppBody } from '../ingest/whatsapp.signature';
import { openDatabase } from '../store/data-source';
import { runningEmbeddedUrl } from '../store/embedded-postgres';
import { WorkspaceStore } from '../store/workspace.store';

/** Real WhatsApp Cloud API error codes, as Meta reports them on failed statuses. */
const ERRORS = [
  { code: 131026, title: 'Message undeliverable' },
  { code: 131049, title: 'This message was not delivered to maintain healthy ecosystem engagement.' },
  { code: 131047, title: 'Re-engagement message' },
  { code: 131000, title: 'Something went wrong' },
];

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : undefined;
}

/** The business number the simulated webhooks come from by default: bound to the key's workspace. */
const SIMULATOR_PHONE_NUMBER_ID = '100000000000001';

/**
 * A new key on the local gateway's database: in the `demo` workspace when there is one (so the
 * demo key printed by `npm start` sees the simulated campaign too), else in `simulator`; the
 * simulator's number is bound to that workspace so that its webhooks are read there.
 */
async function makeLocalKey(): Promise<{ key: string; workspace: string }> {
  const config = loadConfig();
  const url = config.databaseUrl ?? runningEmbeddedUrl(config.dataDir);
  if (!url) throw new Error('no --key given and no local gateway running: start it with `npm start` first');
  const db = await openDatabase({ url, poolSize: 1, applicationName: 'campaign-stats-gateway-simulator' });
  try {
    const rows = await db.query<unknown[]>(`SELECT 1 FROM workspaces WHERE name = 'demo'`);
    const workspace = rows.length > 0 ? 'demo' : 'simulator';
    const { outcome } = await new WhatsAppNumbersService(db).add(SIMULATOR_PHONE_NUMBER_ID, workspace);
    if (outcome === 'taken')
      process.stderr.write(`${SIMULATOR_PHONE_NUMBER_ID} is another workspace's: its webhooks will go there\n`);
    return { key: (await new ApiKeysService(new WorkspaceStore(db)).create(workspace)).key, workspace };
  } finally {
    await db.destroy();
  }
}

type Step = {
  kind: 'register' | 'status' | 'inbound' | 'link';
  contact: number;
  status?: string;
  type?: string;
  error?: (typeof ERRORS)[number];
};

/** What happens to each contact, in a plausible order, with Meta's habits: skipped delivered, late registrations, repeats. */
function plan(contacts: number): Step[] {
  const steps: Step[] = [];
  const late: Step[] = [];
  for (let c = 0; c < contacts; c++) {
    const register: Step = { kind: 'register', contact: c };
    if (randomInt(100) < 10)
      late.push(register); // the dispatcher reports after Meta: parked, then applied
    else steps.push(register);
    if (randomInt(100) < 2) {
      steps.push({ kind: 'status', contact: c, status: 'failed', error: ERRORS[randomInt(ERRORS.length)]! });
      continue;
    }
    steps.push({ kind: 'status', contact: c, status: 'sent' });
    if (randomInt(100) < 4) continue;
    const read = randomInt(100) < 60;
    if (!(read && randomInt(100) < 20)) steps.push({ kind: 'status', contact: c, status: 'delivered' }); // Meta may skip it
    if (!read) continue;
    steps.push({ kind: 'status', contact: c, status: 'read' });
    if (randomInt(100) < 15) steps.push({ kind: 'inbound', contact: c, type: 'button' });
    if (randomInt(100) < 20) steps.push({ kind: 'link', contact: c }); // the URL button: no webhook, a redirect
    if (randomInt(100) < 4) steps.push({ kind: 'inbound', contact: c, type: 'text' });
  }
  // Out of order within a window, and 5% delivered twice.
  for (let i = steps.length - 1; i > 0; i--) {
    const j = Math.max(0, i - randomInt(50));
    [steps[i], steps[j]] = [steps[j]!, steps[i]!];
  }
  const repeats = steps.filter(() => randomInt(100) < 5);
  return [...steps, ...late, ...repeats];
}

function progress(done: number, total: number): void {
  const width = 30;
  const filled = Math.round((done / total) * width);
  process.stderr.write(
    `\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${Math.round((100 * done) / total)}% ${done}/${total} events`,
  );
}

async function main(args: string[]): Promise<void> {
  const contacts = Number(option(args, 'contacts') ?? 2000);
  const rate = Number(option(args, 'rate') ?? 200);
  const target = (option(args, 'target') ?? `http://127.0.0.1:${process.env.PORT ?? 4000}`).replace(/\/$/, '');
  if (!Number.isInteger(contacts) || contacts < 1 || contacts > 100_000)
    throw new Error('--contacts must be 1 to 100000');
  if (!(rate > 0)) throw new Error('--rate must be positive');
  const given = option(args, 'key');
  let key = given;
  if (!key) {
    const made = await makeLocalKey();
    key = made.key;
    process.stderr.write(`made a key in workspace ${made.workspace} (paste it in the dashboard): ${key}\n`);
  }
  const phoneNumberId = option(args, 'phone-number-id') ?? SIMULATOR_PHONE_NUMBER_ID;
  if (given)
    process.stderr.write(
      `webhooks come from phone_number_id ${phoneNumberId}: it must be bound to the key's workspace ` +
        `(cli whatsapp-number add ${phoneNumberId} --workspace NAME), or they are ignored\n`,
    );
  const secret = process.env.WHATSAPP_APP_SECRET;
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const post = async (path: string, body: string, extra: Record<string, string> = {}) => {
    for (let attempt = 0; ; attempt++) {
      const r = await fetch(`${target}${path}`, { method: 'POST', headers: { ...headers, ...extra }, body });
      if (r.ok || attempt >= 5 || r.status < 500) return r;
      await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt)); // retry 5xx, as Meta does
    }
  };

  const phones = Array.from({ length: contacts }, (_, i) => `+1555${String(1_000_000 + i).padStart(7, '0')}`);
  const created = await post(
    '/graphql',
    JSON.stringify({
      query: 'mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }',
      variables: { input: { name: `Simulated rollout ${new Date().toISOString().slice(0, 16)}`, contacts: phones } },
    }),
  );
  const createdBody = (await created.json()) as {
    data?: { createCampaign: { id: string } };
    errors?: { message: string }[];
  };
  if (!createdBody.data)
    throw new Error(`createCampaign failed: ${createdBody.errors?.[0]?.message ?? created.status}`);
  const campaignId = createdBody.data.createCampaign.id;
  await post('/graphql', JSON.stringify({ query: `mutation { startCampaign(id: "${campaignId}") { id } }` }));
  process.stderr.write(
    `campaign ${campaignId}: watch it at ${target}/ (paste the key${
      option(args, 'key') ? ' you gave' : ' printed above'
    })\n`,
  );

  // The URL button's tracked link, and each contact's URL from urls.csv (the path only: the URLs
  // are under PUBLIC_URL, which need not be the address this simulator reaches the gateway at).
  const linked = await post(
    '/graphql',
    JSON.stringify({
      query: 'mutation($c: ID!, $u: String!) { createTrackedLink(campaignId: $c, url: $u) { id } }',
      variables: { c: campaignId, u: 'https://example.com/summer-sale' },
    }),
  );
  const linkedBody = (await linked.json()) as { data?: { createTrackedLink: { id: string } }; errors?: unknown[] };
  if (!linkedBody.data) throw new Error(`createTrackedLink failed: ${JSON.stringify(linkedBody.errors)}`);
  const linkId = linkedBody.data.createTrackedLink.id;
  const urlsAnswer = await fetch(`${target}/api/v1/campaigns/${campaignId}/links/${linkId}/urls.csv`, { headers });
  if (!urlsAnswer.ok) throw new Error(`urls.csv answered ${urlsAnswer.status}`);
  const linkPaths = new Map<string, string>();
  for (const line of (await urlsAnswer.text()).split('\r\n').slice(1)) {
    const [phone, url] = line.split(',');
    if (phone && url) linkPaths.set(phone, new URL(url).pathname);
  }
  process.stderr.write(`tracked link ${linkId} for https://example.com/summer-sale: its taps go through /r/\n`);
  /** A contact's tap on the URL button: its tracked URL, followed as a phone's browser would (one redirect). */
  const tap = async (c: number) => {
    const path = linkPaths.get(phones[c]!);
    if (!path) return;
    for (let attempt = 0; ; attempt++) {
      const r = await fetch(`${target}${path}`, { redirect: 'manual' });
      await r.body?.cancel();
      if (r.status === 302 || attempt >= 5 || r.status < 500) return;
      await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
    }
  };

  const wamid = (c: number) => `wamid.sim.${campaignId}.${c}`;
  let webhookWorks = Boolean(secret);
  if (!webhookWorks)
    process.stderr.write('WHATSAPP_APP_SECRET is not set here: statuses go as dispatcher events instead\n');
  const steps = plan(contacts);
  const started = Date.now();
  const chunk = Math.max(1, Math.round(rate / 10)); // ten requests a second
  for (let i = 0; i < steps.length; i += chunk) {
    const batch = steps.slice(i, i + chunk);
    const now = Math.floor(Date.now() / 1000);
    const registrations = batch.filter((s) => s.kind === 'register');
    const taps = batch.filter((s) => s.kind === 'link');
    const rest = batch.filter((s) => s.kind !== 'register' && s.kind !== 'link');
    if (registrations.length > 0) {
      const events = registrations.map((s) => ({
        type: 'message.sent',
        campaign_id: campaignId,
        contact: phones[s.contact],
        message_id: wamid(s.contact),
      }));
      await post('/api/v1/events', JSON.stringify({ events }));
    }
    await Promise.all(taps.map((s) => tap(s.contact)));
    if (rest.length > 0 && webhookWorks) {
      const statuses = rest
        .filter((s) => s.kind === 'status')
        .map((s) => ({
          id: wamid(s.contact),
          status: s.status,
          timestamp: String(now),
          recipient_id: phones[s.contact]!.slice(1),
          ...(s.error ? { errors: [{ code: s.error.code, title: s.error.title }] } : {}),
        }));
      const messages = rest
        .filter((s) => s.kind === 'inbound')
        .map((s, n) => ({
          context: { from: '15550783881', id: wamid(s.contact) },
          from: phones[s.contact]!.slice(1),
          id: `wamid.sim.in.${now}.${i}.${n}`,
          timestamp: String(now),
          type: s.type,
          ...(s.type === 'button'
            ? { button: { payload: 'SHOP', text: 'Shop now' } }
            : { text: { body: 'Is this still on?' } }),
        }));
      const body = JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [
          {
            id: '1',
            changes: [
              {
                field: 'messages',
                value: {
                  messaging_product: 'whatsapp',
                  metadata: { display_phone_number: '15550000001', phone_number_id: phoneNumberId },
                  statuses,
                  messages,
                },
              },
            ],
          },
        ],
      });
      const r = await post('/webhooks/whatsapp', body, { 'x-hub-signature-256': signWhatsAppBody(body, secret!) });
      if (r.status === 401 || r.status === 503) {
        webhookWorks = false;
        process.stderr.write(
          `\nthe webhook answered ${r.status} (secret not the server's?): statuses go as dispatcher events instead\n`,
        );
      }
    }
    if (rest.length > 0 && !webhookWorks) {
      const type = (s: Step) =>
        s.kind === 'inbound' ? (s.type === 'button' ? 'message.clicked' : 'message.reply') : `message.${s.status}`;
      const events = rest.map((s) => ({
        type: type(s),
        campaign_id: campaignId,
        contact: phones[s.contact],
        ...(s.error ? { error: s.error } : {}),
      }));
      await post('/api/v1/events', JSON.stringify({ events }));
    }
    progress(Math.min(i + chunk, steps.length), steps.length);
    const due = started + ((i + chunk) / rate) * 1000;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
  }
  process.stderr.write('\n');
  const stats = await fetch(`${target}/api/v1/campaigns/${campaignId}/stats`, { headers });
  process.stdout.write(`${JSON.stringify(await stats.json(), null, 2)}\n`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`\nsimulate: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
