import type { ApolloServerPlugin } from '@apollo/server';
import type { DocumentNode, GraphQLError } from 'graphql';
import { BREAK, visit } from 'graphql';
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
  return where ? toGraphQLError(badInput(`${where} must not contain U+0000 or a lone surrogate`)) : null;
}

/** Apollo plugin: the input rule on every operation over HTTP. */
export function storableInputPlugin(): ApolloServerPlugin {
  return {
    requestDidStart() {
      return Promise.resolve({
        didResolveOperation({ document, request }) {
          const error = unstorableInputError(document, request.variables);
          return error ? Promise.reject(error) : Promise.resolve();
        },
      });
    },
  };
}
