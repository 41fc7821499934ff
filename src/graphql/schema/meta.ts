import { ARITY, OPERATOR_LABELS, OPERATORS } from '../../rules/conditions.ts';
import { SECRET_HEADERS } from '../../rules/webhookSettings.ts';
import { builder } from '../builder.ts';
import { OperatorEnum } from './enums.ts';

/** What clients (the dashboard) would otherwise copy from Herald's code: how conditions read, which headers are always secret. */
const OperatorInfo = builder.simpleObject('OperatorInfo', {
  fields: (t) => ({
    operator: t.field({ type: OperatorEnum }),
    label: t.string({ description: 'How it reads in a sentence: `data.status` *is one of* Completed, Cancelled.' }),
    minValues: t.int(),
    maxValues: t.int(),
  }),
});

const Meta = builder.simpleObject('Meta', {
  fields: (t) => ({
    operators: t.field({ type: [OperatorInfo] }),
    secretHeaders: t.stringList({ description: 'Header names (lower case) whose values are always secret: hidden after saving, whatever `secret` says.' }),
  }),
});

builder.queryField('meta', (t) =>
  t.field({
    type: Meta,
    description: 'How Herald reads what clients send it: condition operators with their labels and value counts, headers that are always secret.',
    authScopes: { $any: { tenant: true, operator: true } },
    resolve: () => ({
      operators: OPERATORS.map((operator) => ({ operator, label: OPERATOR_LABELS[operator], minValues: ARITY[operator][0], maxValues: ARITY[operator][1] })),
      secretHeaders: [...SECRET_HEADERS],
    }),
  }),
);
