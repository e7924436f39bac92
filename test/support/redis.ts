import { execFileSync } from 'node:child_process';

const seen = new Map<string, boolean>();

/**
 * Whether a Redis answers PING at `url`, known when the test file loads (jest decides which
 * suites run before any of them starts, so this asks synchronously, in a child process, once).
 */
export function redisReachable(url: string): boolean {
  let known = seen.get(url);
  if (known === undefined) {
    const probe = `
      const { hostname, port } = new URL(process.argv[1]);
      const socket = require('node:net').connect(Number(port || 6379), hostname || '127.0.0.1');
      socket.setTimeout(1000, () => process.exit(1));
      socket.on('error', () => process.exit(1));
      socket.on('connect', () => socket.write('PING\\r\\n'));
      socket.on('data', (d) => process.exit(String(d).startsWith('+PONG') ? 0 : 1));`;
    try {
      execFileSync(process.execPath, ['-e', probe, url], { stdio: 'ignore', timeout: 3000 });
      known = true;
    } catch {
      known = false;
    }
    seen.set(url, known);
  }
  return known;
}
