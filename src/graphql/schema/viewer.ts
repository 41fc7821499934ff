import { db } from '../../db/client.ts';
import { builder } from '../builder.ts';
import type { Context } from '../context.ts';
import { ApiKeyRef } from './apiKeys.ts';
import { RoleEnum } from './enums.ts';
import { TenantRef } from './tenants.ts';

const Viewer = builder.objectRef<Context['auth']['principal'] & {}>('Viewer').implement({
  description: 'Who is calling.',
  fields: (t) => ({
    operator: t.boolean({ resolve: (p) => p.kind === 'operator' }),
    role: t.field({ type: RoleEnum, nullable: true, resolve: (p) => (p.kind === 'key' ? p.role : null) }),
    tenant: t.field({
      type: TenantRef,
      nullable: true,
      resolve: (p) => (p.kind === 'key' ? db().tenant.findUniqueOrThrow({ where: { id: p.tenantId } }) : null),
    }),
    apiKey: t.field({
      type: ApiKeyRef,
      nullable: true,
      resolve: (p) => (p.kind === 'key' ? db().apiKey.findUniqueOrThrow({ where: { id: p.keyId } }) : null),
    }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    description: "The caller: the key's tenant and role, or the operator.",
    type: Viewer,
    authScopes: { $any: { tenant: true, operator: true } },
    resolve: (_root, _args, ctx) => ctx.auth.principal!,
  }),
);
