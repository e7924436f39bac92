import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';

const ROOT = join(__dirname, '../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

// deploy/ is the tested configuration (the cluster test runs haproxy.cfg): these keep its numbers
// in step with the gateway's.
describe('the deploy files agree with the gateway', () => {
  const production = loadConfig({ NODE_ENV: 'production' });

  it('HAProxy marks a draining instance down before DRAIN_DELAY_MS ends', () => {
    const haproxy = read('deploy/haproxy.cfg');
    expect(haproxy).toMatch(/http-check send meth GET uri \/readyz\n/);
    const [, inter, fall] = /default-server check inter (\d+)s fall (\d+)/.exec(haproxy)!;
    expect(Number(inter) * 1000 * Number(fall)).toBeLessThan(production.drainDelayMs);
  });

  it('systemd waits for the whole drain before SIGKILL and starts what npm start starts', () => {
    const unit = read('deploy/campaign-stats-gateway.service');
    const timeout = Number(/^TimeoutStopSec=(\d+)$/m.exec(unit)![1]);
    // main.ts gives up after DRAIN_DELAY_MS + 20 s
    expect(timeout * 1000).toBeGreaterThan(production.drainDelayMs + 20_000);
    expect(unit).toMatch(/^KillSignal=SIGTERM$/m);
    expect(unit).toMatch(/^Environment=NODE_ENV=production$/m);
    const script = /^ExecStart=\/usr\/bin\/node .*?(\S+\.js)$/m.exec(unit)![1]!;
    expect((JSON.parse(read('package.json')) as { scripts: { start: string } }).scripts.start).toContain(script);
  });
});
