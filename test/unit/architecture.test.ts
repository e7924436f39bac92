import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Which folders of src/ each folder may import (README "Architecture"): imports run one way. */
const MAY_IMPORT: Record<string, string[]> = {
  domain: [],
  store: ['domain'],
  auth: ['domain', 'store'],
  campaigns: ['domain', 'store'],
  ingest: ['domain', 'store'],
  live: ['domain', 'store', 'campaigns'],
  graphql: ['domain', 'store', 'auth', 'campaigns', 'live'],
  http: ['domain', 'store', 'auth', 'campaigns', 'ingest', 'live', 'graphql'],
};
const EVERYWHERE = ['logger']; // src/logger.ts
const FORBIDDEN_IN_DOMAIN = /from '(graphql|typeorm|pg|fastify|@apollo\/server|node:http|type-graphql)[/']/;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

describe('the architecture: imports run one way', () => {
  const src = join(__dirname, '../../src');
  it.each(Object.keys(MAY_IMPORT))('src/%s imports only what lies below it', (folder) => {
    const wrong: string[] = [];
    for (const file of files(join(src, folder))) {
      const text = readFileSync(file, 'utf8');
      for (const [, target] of text.matchAll(/from '\.\.\/([a-z-]+)/g)) {
        if (![...MAY_IMPORT[folder]!, ...EVERYWHERE].includes(target!)) wrong.push(`${file}: ${target}`);
      }
      if (folder === 'domain' && FORBIDDEN_IN_DOMAIN.test(text)) wrong.push(`${file}: a framework import`);
    }
    expect(wrong).toEqual([]);
  });
});
