import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApolloServer } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import type { GraphQLContext } from '../graphql/context';
import { readBody } from './http-io';

/** Largest GraphQL request body: room for a 100,000-contact createCampaign. @default 4 MiB */
export const GRAPHQL_BODY_LIMIT = 4 * 1024 * 1024;

/** Hands one HTTP request to Apollo as plain data and writes its answer back. */
export async function handleGraphQL(
  request: IncomingMessage,
  response: ServerResponse,
  apollo: ApolloServer<GraphQLContext>,
  context: () => Promise<GraphQLContext>,
  search: string,
): Promise<void> {
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  let body: unknown;
  if (request.method === 'POST') {
    const raw = await readBody(request, GRAPHQL_BODY_LIMIT);
    const type = headers.get('content-type') ?? '';
    if (raw.length > 0 && type.includes('json')) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        body = raw.toString('utf8'); // Apollo answers 400 for a body it cannot read
      }
    } else {
      body = raw.toString('utf8');
    }
  }
  const result = await apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: request.method ?? 'GET', headers, search, body },
    context,
  });
  const outHeaders: Record<string, string> = {};
  for (const [name, value] of result.headers) outHeaders[name] = value;
  if (result.body.kind === 'complete') {
    outHeaders['content-length'] = String(Buffer.byteLength(result.body.string));
    response.writeHead(result.status ?? 200, outHeaders);
    response.end(result.body.string);
    return;
  }
  response.writeHead(result.status ?? 200, outHeaders);
  for await (const chunk of result.body.asyncIterator) response.write(chunk);
  response.end();
}
