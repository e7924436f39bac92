import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { GraphQLArmorConfig } from '@escape.tech/graphql-armor-types';

/**
 * Limits on what one GraphQL document may ask (graphql-armor): depth, aliases, static cost,
 * tokens and directives, and no field suggestions in errors. Generous for every real query of
 * the schema (large contact lists go in variables, which count no tokens), tight for abuse.
 */
export const ARMOR_CONFIG: GraphQLArmorConfig = {
  maxDepth: { n: 8 },
  maxAliases: { n: 15 },
  costLimit: { maxCost: 5000 },
  // Tokens are limited by graphql-js's own parser option instead (MAX_TOKENS): armor's parser
  // plugin turns every syntax error into an HTTP 500 under Apollo 5.
  maxTokens: { enabled: false },
  maxDirectives: { n: 20 },
  blockFieldSuggestion: { enabled: true },
};

/** Tokens in one document, at most: `parse(query, { maxTokens })` for HTTP and WebSocket alike. @default 3000 */
export const MAX_TOKENS = 3000;

/** Apollo plugins and validation rules that enforce {@link ARMOR_CONFIG}; the rules serve graphql-ws too. */
export function graphQLArmor() {
  return new ApolloArmor(ARMOR_CONFIG).protect();
}
