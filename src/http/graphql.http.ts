import type { ApolloServer } from '@apollo/server';
import { fastifyApolloHandler } from '@as-integrations/fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Gate } from '../auth/gate';
import type { CampaignsService } from '../campaigns/campaigns.service';
import type { GraphQLContext } from '../graphql/context';
import { createContext } from '../graphql/context';
import { toGraphQLError } from '../graphql/errors';

/** Largest GraphQL request body: room for a 100,000-contact createCampaign. @default 4 MiB */
export const GRAPHQL_BODY_LIMIT = 4 * 1024 * 1024;

const graphQLResponse = {
  description: 'A GraphQL response (`data` and/or `errors`; see schema.graphql and docs/graphql.md)',
  type: 'object',
  properties: {
    data: { type: ['object', 'null'], additionalProperties: true },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['message'],
        additionalProperties: true,
        properties: { message: { type: 'string' }, extensions: { type: 'object', additionalProperties: true } },
      },
    },
  },
} as const;

const responses = (method: 'GET' | 'POST') => ({
  200: graphQLResponse,
  400: { ...graphQLResponse, description: 'Not a GraphQL request, or a document that does not parse or validate' },
  401: { ...graphQLResponse, description: 'Missing or invalid API key (`UNAUTHENTICATED`)' },
  ...(method === 'POST' ? { 413: { ...graphQLResponse, description: 'Body over 4 MiB' } } : {}),
  429: { ...graphQLResponse, description: 'Over the rate limit (`RATE_LIMITED`); see `Retry-After`' },
  500: { ...graphQLResponse, description: 'Unexpected error (`INTERNAL_SERVER_ERROR`), masked' },
  503: { ...graphQLResponse, description: 'Database unavailable (`SERVICE_UNAVAILABLE`); see `Retry-After`' },
});

/**
 * GraphQL over HTTP on `/graphql` through Apollo's Fastify integration: the key is admitted (and
 * charged) by the same gate as REST, inside Apollo's context function so that its errors come
 * back in GraphQL's shape.
 */
export function registerGraphQL(
  app: FastifyInstance,
  apollo: ApolloServer<GraphQLContext>,
  gate: Gate,
  campaigns: CampaignsService,
): void {
  const context = async (request: FastifyRequest): Promise<GraphQLContext> => {
    try {
      return createContext(await gate.admit(request.headers.authorization, request.ip, true), campaigns);
    } catch (error) {
      // Before execution Apollo would answer 500 with the raw message: the table's answer instead
      // (its formatError logs it once, at the table's level).
      throw toGraphQLError(error);
    }
  };
  const handler = fastifyApolloHandler(apollo, { context });
  const config = { graphql: true };
  app.get(
    '/graphql',
    {
      config,
      // Apollo answers GET and POST only: HEAD is the 405 of every other method, not a GET without a body.
      exposeHeadRoute: false,
      schema: {
        operationId: 'graphqlGet',
        summary: 'A GraphQL query over GET (served when an `Authorization` header is sent; no mutations)',
        tags: ['GraphQL'],
        security: [{ apiKey: [] }],
        querystring: {
          type: 'object',
          properties: {
            query: { type: 'string' },
            operationName: { type: 'string' },
            variables: { type: 'string', description: 'JSON' },
            extensions: { type: 'string', description: 'JSON' },
          },
        },
        response: responses('GET'),
      },
    },
    handler,
  );
  app.post(
    '/graphql',
    {
      config,
      bodyLimit: GRAPHQL_BODY_LIMIT,
      schema: {
        operationId: 'graphqlPost',
        summary: 'A GraphQL operation (query or mutation; subscriptions over graphql-ws)',
        tags: ['GraphQL'],
        security: [{ apiKey: [] }],
        body: {
          type: 'object',
          properties: {
            query: { type: 'string' },
            operationName: { type: ['string', 'null'] },
            variables: { type: ['object', 'null'], additionalProperties: true },
            extensions: { type: ['object', 'null'], additionalProperties: true },
          },
        },
        response: responses('POST'),
      },
    },
    handler,
  );
}
