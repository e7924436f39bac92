import { rmSync } from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  await globalThis.__embeddedTestDatabase?.stop();
  if (process.env.TEST_EMBEDDED_DIR) rmSync(process.env.TEST_EMBEDDED_DIR, { recursive: true, force: true });
}
