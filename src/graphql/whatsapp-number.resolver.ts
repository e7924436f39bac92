import { Ctx, Field, ID, ObjectType, Query, Resolver } from 'type-graphql';
import type { WhatsAppNumbersService } from '../auth/whatsapp-numbers.service';
import type { GraphQLContext } from './context';
import { workspaceOf } from './context';
import { DateTimeScalar } from './date-time.scalar';

@ObjectType({
  description:
    'A WhatsApp Cloud API number bound to this workspace by the operator: webhook changes from it are read in this workspace',
})
export class WhatsAppNumber {
  @Field(() => ID, { description: "Meta's phone_number_id" }) phoneNumberId!: string;
  @Field(() => DateTimeScalar, { description: 'when it was bound' }) createdAt!: Date;
}

/** Read-only: numbers are bound with the command line (`whatsapp-number add`). */
@Resolver(() => WhatsAppNumber)
export class WhatsAppNumberResolver {
  constructor(private readonly numbers: WhatsAppNumbersService) {}

  @Query(() => [WhatsAppNumber], { description: "This workspace's WhatsApp numbers, by phoneNumberId" })
  async whatsAppNumbers(@Ctx() context: GraphQLContext): Promise<WhatsAppNumber[]> {
    const rows = await this.numbers.ofWorkspace(workspaceOf(context));
    return rows.map((r) => ({ phoneNumberId: r.phoneNumberId, createdAt: r.createdAt }));
  }
}
