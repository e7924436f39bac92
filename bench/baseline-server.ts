// The benchmarks' baselines, in a process of their own: a bare node:http server that runs the
// gateway's stats SQL on a pool of the same size (`sql`), answers a constant JSON (`constant`), or
// receives a webhook as bare as can be: reads the body, checks its HMAC in constant time and
// parses the JSON, and stores nothing (`webhook`, the secret in place of the database URL).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { Pool } from 'pg';

const [mode, databaseUrl, poolSize] = process.argv.slice(2);
const pool = mode === 'sql' ? new Pool({ connectionString: databaseUrl, max: Number(poolSize ?? 10) }) : null;
const CONSTANT = JSON.stringify({ status: 'success', campaign_id: '507f1f77bcf86cd799439060', sent_count: 1998 });
// The text of FIND_RECORD in src/store/campaign.store.ts.
const STATS_SQL = `
  SELECT c.id, c.workspace_id, c.name, c.status, c.created_at, c.scheduled_at, c.started_at, c.completed_at,
         c.failure_reason, k.total_contacts, k.touched, k.sent, k.delivered, k.read, k.clicked, k.replied,
         k.failed, k.updated_at
  FROM campaigns c JOIN campaign_counters k ON k.campaign_id = c.id
  WHERE c.id = $1 AND c.workspace_id = $2`;

const server = createServer((request, response) => {
  if (mode === 'webhook') {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const expected = Buffer.from(`sha256=${createHmac('sha256', databaseUrl!).update(body).digest('hex')}`);
      const given = Buffer.from(String(request.headers['x-hub-signature-256'] ?? ''));
      let ok = given.length === expected.length && timingSafeEqual(given, expected);
      if (ok) {
        try {
          JSON.parse(body.toString('utf8'));
        } catch {
          ok = false;
        }
      }
      const answer = ok ? '{"status":"ok"}' : '{"error":"bad"}';
      response.writeHead(ok ? 200 : 400, { 'content-type': 'application/json', 'content-length': answer.length });
      response.end(answer);
    });
    return;
  }
  if (!pool) {
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(CONSTANT) });
    response.end(CONSTANT);
    return;
  }
  const [, , , , campaignId, , workspaceId] = (request.url ?? '').split('/');
  pool.query(STATS_SQL, [campaignId, workspaceId]).then(
    ({ rows }) => {
      const body = JSON.stringify({ status: 'success', ...rows[0] });
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      response.end(body);
    },
    () => {
      response.writeHead(500);
      response.end();
    },
  );
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  void pool?.end();
  process.exit(0);
});
