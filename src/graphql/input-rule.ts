import type { ApolloServerPlugin } from '@apollo/server';
import type { DocumentNode } from 'graphql';
import { BREAK, GraphQLError, OperationTypeNode, visit } from 'graphql';
import { badInput } from '../domain/errors';
import { findUnstorableText, isStorableText } from '../domain/input-rules';
import { toGraphQLError } from './errors';

/**
 * BAD_USER_INPUT when an operation's string literals or variables hold text the database cannot
 * store (docs/errors.md), before anything runs; null when the input is fine. Used by GraphQL over
 * HTTP (the plugin below) and over WebSocket alike.
 */
export function unstorableInputError(
  document: DocumentNode,
  variables: Record<string, unknown> | null | undefined,
): GraphQLError | null {
  let where: string | null = null;
  visit(document, {
    StringValue(node) {
      if (isStorableText(node.value)) return undefined;
      where = 'a string in the document';
      return BREAK;
    },
  });
  where ??= variables ? findUnstorableText(variables, '$') : null;
  if (!where) return null;
  const what = where.includes('nested deeper') ? where : `${where} must not contain U+0000 or a lone surrogate`;
  return toGraphQLError(badInput(what));
}

/**
 * Apollo plugin, the rules of an operation over HTTP before it runs: subscriptions are served over
 * WebSocket only (400 here, never an execution that fails), and the input rule above.
 */
export function httpOperationRulesPlugin(): ApolloServerPlugin {
  return {
    requestDidStart() {
      return Promise.resolve({
        didResolveOperation({ operation, document, request }) {
          if (operation?.operation === OperationTypeNode.SUBSCRIPTION) {
            return Promise.reject(
              new GraphQLError('Subscriptions are served over WebSocket (graphql-ws) on /graphql', {
                extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
              }),
            );
          }
          const error = unstorableInputError(document, request.variables);
          return error ? Promise.reject(error) : Promise.resolve();
        },
      });
    },
  };
}
