import { builder } from '../builder.ts';

const ActorInput = builder.inputType('ActorInput', {
  fields: (t) => ({
    type: t.string({ required: true, description: '`admin`, `learner`, `system`, …' }),
    id: t.string(),
  }),
});

export const EventInputRef = builder.inputType('EventInput', {
  description: 'Something that happened in the host application.',
  fields: (t) => ({
    topic: t.string({ required: true }),
    action: t.string({ required: true, description: '`created`, `updated`, `deleted` or a custom action of the topic.' }),
    entityId: t.string({ required: true }),
    data: t.field({ type: 'JSON', description: "The entity's fields now (left out on deletes)." }),
    previous: t.field({ type: 'JSON', description: 'The entity before the change, if known.' }),
    changedFields: t.stringList({ description: 'Paths that changed, when previous data is not sent.' }),
    actor: t.field({ type: ActorInput }),
    clientId: t.string(),
    correlationId: t.string(),
    occurredAt: t.field({ type: 'DateTime' }),
  }),
});
