import type { Client } from 'graphql-ws';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

export const STATS_SUBSCRIPTION = `subscription($id: ID!) {
  campaignStatsUpdated(campaignId: $id) {
    campaignId campaignStatus totalContacts sentCount deliveredCount readCount failedCount pendingCount
    failureReasons { code count } updatedAt
  }
}`;

export interface LiveClient {
  client: Client;
  /** close code and reason, once the socket closed */
  closed: Promise<{ code: number; reason: string }>;
}

export function liveClient(httpUrl: string, key: string | null): LiveClient {
  let resolveClosed!: (value: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (resolveClosed = resolve));
  const client = createClient({
    url: `${httpUrl.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: key ? { authorization: `Bearer ${key}` } : {},
    retryAttempts: 0,
    lazy: true,
    on: {
      closed: (event) => {
        const e = event as { code: number; reason: string };
        resolveClosed({ code: e.code, reason: String(e.reason) });
      },
    },
  });
  return { client, closed };
}

/** A subscription whose values are kept as they come, to be awaited one by one. */
export class Recorder<T = any> {
  readonly values: T[] = [];
  errors: unknown[] = [];
  completed = false;
  private waiters: (() => void)[] = [];
  private readonly dispose: () => void;

  constructor(client: Client, query: string, variables: Record<string, unknown>) {
    this.dispose = client.subscribe<T>(
      { query, variables },
      {
        next: (value) => {
          if (value.errors) this.errors.push(...value.errors);
          if (value.data) this.values.push(value.data);
          this.wake();
        },
        error: (error) => {
          if (Array.isArray(error)) this.errors.push(...(error as unknown[]));
          else this.errors.push(error);
          this.wake();
        },
        complete: () => {
          this.completed = true;
          this.wake();
        },
      },
    );
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once `predicate` holds over what was received, or rejects after `ms`. */
  async until(predicate: (r: this) => boolean, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!predicate(this)) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timed out; received ${JSON.stringify({ values: this.values, errors: this.errors })}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  last(): T {
    return this.values[this.values.length - 1]!;
  }

  stop(): void {
    this.dispose();
  }
}

/** Opens a raw graphql-transport-ws socket, sends `connection_init` with this payload, and reports the close. */
export function rawInit(
  httpUrl: string,
  payload: unknown,
): Promise<{ code: number; reason: string; messages: string[] }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${httpUrl.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    const messages: string[] = [];
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload })));
    socket.on('message', (data: Buffer) => messages.push(data.toString()));
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString(), messages }));
    socket.on('error', reject);
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
