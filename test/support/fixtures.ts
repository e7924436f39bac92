import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A recorded WhatsApp Cloud API webhook body from test/fixtures/whatsapp, as text. */
export function whatsappFixture(name: string, replace: Record<string, string> = {}): string {
  let text = readFileSync(join(__dirname, '..', 'fixtures', 'whatsapp', `${name}.json`), 'utf8');
  for (const [from, to] of Object.entries(replace)) text = text.split(from).join(to);
  return text;
}
