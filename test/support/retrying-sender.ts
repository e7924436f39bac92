import { postWebhook } from './whatsapp';

/** What a sender that retries every non-2xx saw: how often, and which statuses. */
export interface SenderLog {
  attempts: number;
  failures: Map<number, number>;
}

/**
 * Sends each body until it is acknowledged (2xx), as Meta does, with a short backoff. `url()` is
 * asked at every attempt, so a test can move the gateway (a restart on a new port).
 */
export async function sendUntilAcknowledged(
  url: () => string | null,
  bodies: readonly string[],
  concurrency: number,
  log: SenderLog,
  maxAttempts = 400,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        for (let attempt = 1; ; attempt++) {
          if (attempt > maxAttempts) throw new Error('a webhook was never acknowledged');
          log.attempts++;
          const target = url();
          let status = 0;
          if (target) {
            try {
              status = (await postWebhook(target, body)).status;
            } catch {
              status = 0; // connection refused or reset: the gateway is down
            }
          }
          if (status >= 200 && status < 300) break;
          log.failures.set(status, (log.failures.get(status) ?? 0) + 1);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }),
  );
}
