import http from 'node:http';
import fc from 'fast-check';
import { phones } from '../factories/campaign.factory';
import { postEvents } from '../support/http';
import type { Kind } from '../support/lattice-model';
import { KINDS, countsIn } from '../support/lattice-model';
import type { TestApp } from '../support/test-app';
import { startTestApp } from '../support/test-app';

// docs/rest.md#export: the CSV download of the drill-down, held against the same model.

const HEADER = 'phone,stage,sent_at,delivered_at,read_at,clicked_at,replied_at,failed_at,failure_code,failure_title';
const FILTERS = ['all', 'sent', 'delivered', 'read', 'clicked', 'replied', 'failed', 'pending'] as const;
const EVENT_TYPE: Record<Kind, string> = {
  SENT: 'message.sent',
  DELIVERED: 'message.delivered',
  READ: 'message.read',
  CLICKED: 'message.clicked',
  REPLIED: 'message.reply',
  FAILED: 'message.failed',
};

/** RFC 4180, written out plainly: records end in CRLF; quoted fields may hold commas, quotes, line breaks. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let i = 0;
  while (i < text.length) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (text[i] === '"' && text[i + 1] === '"') {
          field += '"';
          i += 2;
        } else if (text[i] === '"') {
          i++;
          break;
        } else if (i >= text.length) throw new Error('unterminated quote');
        else field += text[i++];
      }
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\r') {
        if (text[i] === '"' || text[i] === '\n') throw new Error(`bare ${JSON.stringify(text[i])} at ${i}`);
        field += text[i++];
      }
    }
    record.push(field);
    if (text[i] === ',') i++;
    else if (text.startsWith('\r\n', i)) {
      records.push(record);
      record = [];
      i += 2;
    } else throw new Error(`expected , or CRLF at ${i}`);
  }
  return records;
}

describe('contacts CSV export', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.stop());

  const csvPath = (id: string, filter?: string) =>
    `/api/v1/campaigns/${id}/contacts.csv${filter === undefined ? '' : `?filter=${filter}`}`;
  async function get(path: string, key: string | null = t.key) {
    const response = await fetch(`${t.url}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
    return { status: response.status, text: await response.text(), headers: response.headers };
  }

  it('lists the same contacts as the drill-down and the model, with the same cells', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.subarray([...KINDS]), { minLength: 1, maxLength: 20 }), async (assignments) => {
        const contacts = phones(assignments.length);
        const { id } = await t.app.services.campaigns.create(t.workspaceId, { name: 'csv', contacts });
        const base = Date.parse('2026-06-15T10:00:00Z');
        const events = assignments.flatMap((kinds, i) =>
          kinds.map((kind, k) => ({
            type: EVENT_TYPE[kind],
            campaign_id: id,
            contact: contacts[i],
            timestamp: new Date(base + (i * 10 + k) * 60_000 + 123).toISOString(),
            ...(kind === 'FAILED' ? { error: { code: 131000 + i, title: `Undeliverable, "${i}"` } } : {}),
          })),
        );
        if (events.length > 0) expect((await postEvents(t.url, t.key, { events })).status).toBe(200);
        for (const filter of FILTERS) {
          const csv = await get(csvPath(id, filter));
          expect(csv.status).toBe(200);
          const [header, ...rows] = parseCsv(csv.text);
          expect(header!.join(',')).toBe(HEADER);
          const expected = contacts
            .filter((_, i) => filter === 'all' || countsIn(new Set(assignments[i]))[filter])
            .sort();
          expect(rows.map((r) => r[0])).toEqual(expected);
          const json = await get(`/api/v1/campaigns/${id}/contacts?filter=${filter}&limit=500`);
          const fromJson = JSON.parse(json.text).contacts.map((c: Record<string, string | number | null>) =>
            HEADER.split(',').map((name) => (c[name] === null ? '' : String(c[name]))),
          );
          expect(rows).toEqual(fromJson);
        }
      }),
      { numRuns: 8 },
    );
  });

  it('answers as a download, quotes by RFC 4180 and guards text against formula injection', async () => {
    const titles = ['=1+2', '+cmd|x', '-2', '@SUM(A1)', '\tTAB', '\rCR', 'a,b', 'say "hi"', 'line\nbreak', 'plain'];
    const contacts = phones(titles.length);
    const { id } = await t.app.services.campaigns.create(t.workspaceId, { name: 'quoting', contacts });
    await postEvents(t.url, t.key, {
      events: titles.map((title, i) => ({
        type: 'message.failed',
        campaign_id: id,
        contact: contacts[i],
        timestamp: '2026-06-15T10:07:00.456Z',
        error: { code: 131026, title },
      })),
    });
    const csv = await get(csvPath(id, 'failed'));
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="campaign-${id}-failed.csv"`);
    expect(csv.text.startsWith(`${HEADER}\r\n`)).toBe(true);
    const lines = new Map(parseCsv(csv.text).map((r) => [r[0], r]));
    titles.forEach((title, i) => {
      const guarded = /^[-=+@\t\r]/.test(title) ? `'${title}` : title;
      expect(lines.get(contacts[i])).toEqual([
        contacts[i],
        'failed',
        '',
        '',
        '',
        '',
        '',
        '2026-06-15T10:07:00Z',
        '131026',
        guarded,
      ]);
    });
    // the raw bytes of one quoted cell
    expect(csv.text).toContain(`,131026,"say ""hi"""\r\n`);
    expect(csv.text).toContain(`,131026,"'=1+2"\r\n`);
    // default filter: all
    const all = await get(csvPath(id));
    expect(all.headers.get('content-disposition')).toBe(`attachment; filename="campaign-${id}-all.csv"`);
    expect(parseCsv(all.text)).toHaveLength(titles.length + 1);
  });

  it('refuses bad input, and answers another workspace as missing', async () => {
    const { id } = await t.app.services.campaigns.create(t.workspaceId, { name: 'edges', contacts: phones(1) });
    const other = await t.newKey('csv-other-workspace');
    const notFound = { error: 'not_found', message: 'Campaign not found' };
    expect(JSON.parse((await get(csvPath(id), other.key)).text)).toEqual(notFound);
    expect((await get(csvPath(id), other.key)).status).toBe(404);
    expect((await get(csvPath('ffffffffffffffffffffffff'))).status).toBe(404);
    expect(await get(csvPath('nope'))).toMatchObject({ status: 400 });
    expect(JSON.parse((await get(csvPath('nope'))).text)).toEqual({
      error: 'bad_request',
      message: 'Invalid campaign_id',
    });
    for (const filter of ['READ', 'touched', '', '%00']) {
      const answer = await get(csvPath(id, filter));
      expect([filter, answer.status, JSON.parse(answer.text)]).toEqual([
        filter,
        400,
        { error: 'bad_request', message: 'Invalid filter' },
      ]);
    }
    expect((await get(csvPath(id), null)).status).toBe(401);
  });

  describe('on a big campaign', () => {
    let id: string;
    beforeAll(async () => {
      ({ id } = await t.app.services.campaigns.create(t.workspaceId, { name: 'big', contacts: phones(60_000) }));
    });

    /** A download that reads its first chunk and then stops reading, until aborted. */
    function stalledDownload(): Promise<{ status: number; headers: http.IncomingHttpHeaders; abort(): void }> {
      return new Promise((resolve, reject) => {
        const request = http.get(`${t.url}${csvPath(id)}`, { headers: { authorization: `Bearer ${t.key}` } });
        request.on('response', (response) => {
          const done = { status: response.statusCode!, headers: response.headers, abort: () => request.destroy() };
          if (response.statusCode !== 200) {
            response.resume();
            resolve(done);
            return;
          }
          response.once('data', () => {
            response.pause();
            resolve(done);
          });
        });
        request.on('error', (error) => (/aborted|socket hang up/.test(error.message) ? undefined : reject(error)));
      });
    }

    const exportSessions = async () => {
      const rows: { state: string }[] = await t.db.query(
        `SELECT state FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()
           AND (state = 'idle in transaction' OR query LIKE '%csv_export%' AND state <> 'idle')`,
      );
      return rows.length;
    };

    it('a client that disconnects mid-export stops the query and releases the connection', async () => {
      const download = await stalledDownload();
      expect(download.status).toBe(200);
      expect(await exportSessions()).toBe(1);
      download.abort();
      const until = Date.now() + 5000;
      while ((await exportSessions()) > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect(await exportSessions()).toBe(0);
    });

    it('a third export in flight for the workspace is 429 with Retry-After; a slot frees when one ends', async () => {
      const first = await stalledDownload();
      const second = await stalledDownload();
      expect([first.status, second.status]).toEqual([200, 200]);
      const third = await get(csvPath(id));
      expect(third.status).toBe(429);
      expect(third.headers.get('retry-after')).toBe('5');
      expect(JSON.parse(third.text).error).toBe('rate_limited');
      // another workspace has slots of its own
      const other = await t.newKey('csv-other-slots');
      const { id: otherId } = await t.app.services.campaigns.create(other.workspaceId, {
        name: 'o',
        contacts: phones(1),
      });
      expect((await get(csvPath(otherId), other.key)).status).toBe(200);
      first.abort();
      const until = Date.now() + 5000;
      let fourth = await get(csvPath(id, 'failed'));
      while (fourth.status === 429 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 50));
        fourth = await get(csvPath(id, 'failed'));
      }
      expect(fourth.status).toBe(200);
      second.abort();
      // whole exports free their slots too
      for (let i = 0; i < 3; i++) expect((await get(csvPath(id, 'pending'))).status).toBe(200);
    });
  });
});
