import { EntityIdType, Environment, FieldType, Role } from '../../generated/prisma/enums.ts';
import { OPERATORS } from '../../rules/conditions.ts';
import { builder } from '../builder.ts';

export const RoleEnum = builder.enumType(Role, {
  name: 'Role',
  description: 'ADMIN: everything. DEVELOPER: webhooks, topics, publish, replay. PUBLISHER: publish only. VIEWER: read only.',
});
export const EnvironmentEnum = builder.enumType(Environment, { name: 'Environment' });
export const FieldTypeEnum = builder.enumType(FieldType, { name: 'FieldType' });
export const EntityIdTypeEnum = builder.enumType(EntityIdType, { name: 'EntityIdType', description: 'What a topic\'s entity ids look like.' });
export const OperatorEnum = builder.enumType(Object.fromEntries(OPERATORS.map((o) => [o, o])) as Record<(typeof OPERATORS)[number], (typeof OPERATORS)[number]>, {
  name: 'ConditionOperator',
});
