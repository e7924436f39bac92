import WebSocket from 'ws';
import type { TestApp } from '../support/test-app';
import { startTestApp } from '../support/test-app';

/** A graphql-ws socket: resolves once acknowledged (open) or closed (with its code). */
function connect(
  httpUrl: string,
  key: string,
): Promise<{ socket: WebSocket; acked: boolean; code?: number; reason?: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${httpUrl.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    socket.on('open', () =>
      socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } })),
    );
    socket.on('message', (data: Buffer) => {
      if ((JSON.parse(data.toString()) as { type: string }).type === 'connection_ack') resolve({ socket, acked: true });
    });
    socket.on('close', (code, reason) => resolve({ socket, acked: false, code, reason: reason.toString() }));
    socket.on('error', reject);
  });
}

const closeAll = async (sockets: WebSocket[]) => {
  await Promise.all(
    sockets.map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.readyState === WebSocket.CLOSED) return resolve();
          s.once('close', () => resolve());
          s.close();
        }),
    ),
  );
};

describe('WS_MAX_SOCKETS_PER_KEY: sockets one key may hold on one instance', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ wsMaxSocketsPerKey: 3 });
  });
  afterAll(() => t.stop());

  it('the N+1th socket of a key is closed with 4429 at connection_init; other keys are not affected; a closed socket frees its place', async () => {
    // Opened at once: the count holds under concurrent connection_init messages too.
    const first = await Promise.all(Array.from({ length: 5 }, () => connect(t.url, t.key)));
    expect(first.filter((c) => c.acked)).toHaveLength(3);
    const refused = first.filter((c) => !c.acked);
    expect(refused.map((c) => [c.code, c.reason])).toEqual([
      [4429, 'At most 3 sockets per key'],
      [4429, 'At most 3 sockets per key'],
    ]);

    const other = await t.newKey('socket-cap-other');
    const theirs = await connect(t.url, other.key);
    expect(theirs.acked).toBe(true);

    const open = first.filter((c) => c.acked).map((c) => c.socket);
    await closeAll(open.slice(0, 1));
    const again = await connect(t.url, t.key);
    expect(again.acked).toBe(true);
    const over = await connect(t.url, t.key);
    expect([over.acked, over.code]).toEqual([false, 4429]);
    await closeAll([...open.slice(1), again.socket, theirs.socket]);
  });
});
