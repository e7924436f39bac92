import type { DocumentNode, GraphQLSchema } from 'graphql';
import { execute, parse, validate } from 'graphql';
import type { Principal } from '../auth/api-keys.service';
import type { CampaignsService } from '../campaigns/campaigns.service';
import { DomainError } from '../domain/errors';
import { createContext } from '../graphql/context';

/**
 * A GraphQL operation that a REST path runs (same schema, resolvers and errors as GraphQL):
 * parsed and validated once, when the app is built; run with the caller's principal. Its errors
 * are rethrown as they are (domain errors unwrapped) for classifyError.
 */
export class RestOperation<Data> {
  private readonly document: DocumentNode;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly campaigns: CampaignsService,
    name: string,
    text: string,
  ) {
    this.document = parse(text);
    const errors = validate(schema, this.document);
    if (errors.length > 0)
      throw new Error(`REST ${name} operation is invalid: ${errors.map((e) => e.message).join('; ')}`);
  }

  async run(principal: Principal, variables: Record<string, unknown>): Promise<Data> {
    const result = await execute({
      schema: this.schema,
      document: this.document,
      variableValues: variables,
      contextValue: createContext(principal, this.campaigns),
    });
    const error = result.errors?.[0];
    if (error) throw error.originalError instanceof DomainError ? error.originalError : error;
    return result.data as Data;
  }
}
