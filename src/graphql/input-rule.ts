import type { ApolloServerPlugin } from '@apollo/server';
import type { DocumentNode } from 'graphql';
import { BREAK, GraphQLError, OperationTypeNode, visit } from 'graphql';
import { badInput } from '../domain/errors';
import { findUnstorableText, isStorableText } from '../domain/input-rules';
import { toGraphQLError } from './errors';

// Both transports reuse one parsed document per query text (Apollo's document store, the socket
// server's cache): its literals are judged once, the variables on every operation.
const literalsJudged = new WeakMap<DocumentNode, boolean>();

function literalsStorable(document: DocumentNode): boolean {
  let storable = literalsJudged.get(document);
  if (storable === undefined) {
    storable = true;
    visit(document, {
      StringValue(node) {
        if (isStorableText(node.value)) return undefined;
        storable = false;
        return BREAK;
      },
    });
    literalsJudged.set(document, storable);
  }
  return storable;
}

/**
 * BAD_USER_INPUT when an operation's string literals or variables hold text the database cannot
 * store (docs/errors.md), before anything runs; null when the input is fine. Used by GraphQL over
 * HTTP (the plugin below) and over WebSocket alike.
 */
export function unstorableInputError(
  document: DocumentNode,
  variables: Record<string, unknown> | null | undefined,
): GraphQLError | null {
  let where = literalsStorable(document) ? null : 'a string in the document';
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
