// npm run schema:emit — writes schema.graphql from the type-graphql classes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildGatewaySchema, printableSchema } from './schema';

async function main(): Promise<void> {
  // The schema's shape does not depend on the services; resolvers are never called here.
  const schema = await buildGatewaySchema({ campaigns: null as never, whatsAppNumbers: null as never });
  const path = join(__dirname, '..', '..', 'schema.graphql');
  writeFileSync(path, await printableSchema(schema));
  process.stdout.write(`wrote ${path}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
