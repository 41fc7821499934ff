import { exportConfiguration, importConfiguration } from '../../usecases/configuration.ts';
import { builder } from '../builder.ts';
import { tenantOf } from '../context.ts';

const ChangeKindEnum = builder.enumType('ConfigurationPart', { values: ['TOPIC', 'WEBHOOK'] as const });
const ChangeActionEnum = builder.enumType('ConfigurationAction', { values: ['CREATE', 'UPDATE', 'UNCHANGED'] as const });

const PlannedChange = builder.simpleObject('ConfigurationChange', {
  description: 'What an import does (or would do) to one topic or webhook.',
  fields: (t) => ({
    kind: t.field({ type: ChangeKindEnum }),
    name: t.string({ description: "The topic's key or the webhook's label (webhooks are matched by label)." }),
    action: t.field({ type: ChangeActionEnum }),
    fields: t.stringList({ description: 'UPDATE: the settings that differ.' }),
    notes: t.stringList({ description: 'What to do after (a secret header to set, a webhook to switch on).' }),
  }),
});
const CreatedSecret = builder.simpleObject('ImportedSecret', {
  fields: (t) => ({ label: t.string(), secret: t.string({ description: "The new webhook's signing secret, shown this once." }) }),
});
const ImportPlan = builder.simpleObject('ImportPlan', {
  fields: (t) => ({
    dryRun: t.boolean(),
    changes: t.field({ type: [PlannedChange] }),
    secrets: t.field({ type: [CreatedSecret], description: 'Applied: the signing secrets of the webhooks created.' }),
  }),
});

builder.queryField('exportConfiguration', (t) =>
  t.field({
    type: 'JSON',
    description: `The tenant's topics and webhooks as a document (format ${'`herald.configuration/1`'}), secrets left out: signing secrets and secret header values. Import it into another tenant with importConfiguration.`,
    authScopes: { read: true },
    resolve: (_root, _args, ctx) => exportConfiguration(tenantOf(ctx)),
  }),
);

builder.mutationField('importConfiguration', (t) =>
  t.field({
    type: ImportPlan,
    description:
      'Brings a configuration document (exportConfiguration of another tenant) into this one: topics by key and webhooks by label are created or changed to match. Everything is checked before anything changes. dryRun (the default) answers what would change and changes nothing. New webhooks are created off, with their own signing secrets; changed ones keep their state.',
    authScopes: { manage: true },
    args: { document: t.arg({ type: 'JSON', required: true }), dryRun: t.arg.boolean({ defaultValue: true }) },
    resolve: (_root, { document, dryRun }, ctx) => importConfiguration(tenantOf(ctx), document, dryRun ?? true, ctx.config),
  }),
);
