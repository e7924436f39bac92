import { Arg, Ctx, Field, ID, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import type { TrackedLinksService } from '../campaigns/tracked-links.service';
import type { GraphQLContext } from './context';
import { workspaceOf } from './context';

@ObjectType({
  description: 'A URL whose clicks are counted through per-contact redirects (URL buttons send no webhook)',
})
export class TrackedLink {
  @Field(() => ID) id!: string;
  @Field(() => ID) campaignId!: string;
  @Field({ description: 'where /r/{token} redirects, exactly as registered' }) url!: string;
  @Field(() => Int, { description: 'contacts that clicked through this link' }) clicks!: number;
}

/** Thin adapter over {@link TrackedLinksService}. */
@Resolver(() => TrackedLink)
export class TrackedLinksResolver {
  constructor(private readonly service: TrackedLinksService) {}

  @Mutation(() => TrackedLink, { description: 'http and https URLs only, printable ASCII, at most 2048 characters' })
  async createTrackedLink(
    @Arg('campaignId', () => ID) campaignId: string,
    @Arg('url', () => String) url: string,
    @Ctx() context: GraphQLContext,
  ): Promise<TrackedLink> {
    return this.service.create(workspaceOf(context), campaignId, url);
  }

  @Query(() => [TrackedLink], { description: "The campaign's tracked links, oldest first, with their clicks" })
  async trackedLinks(
    @Arg('campaignId', () => ID) campaignId: string,
    @Ctx() context: GraphQLContext,
  ): Promise<TrackedLink[]> {
    return this.service.list(workspaceOf(context), campaignId);
  }
}
