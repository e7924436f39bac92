import type { ServerResponse } from 'node:http';
import type { DataSource } from 'typeorm';
import { sendJson } from './http-io';

/** `GET /healthz`: the process is up. */
export function handleHealth(response: ServerResponse): void {
  sendJson(response, 200, { status: 'ok' });
}

/** `GET /readyz`: the database answers within a second. */
export async function handleReady(response: ServerResponse, db: DataSource): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      db.query('SELECT 1'),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), 1000);
      }),
    ]);
    sendJson(response, 200, { status: 'ready', database: 'up' });
  } catch {
    sendJson(response, 503, { status: 'unavailable', database: 'down' });
  } finally {
    clearTimeout(timer);
  }
}
