import { db } from '../../db/client.ts';
import { builder } from '../builder.ts';
import type { Context } from '../context.ts';
import { ApiKeyRef } from './apiKeys.ts';
import { PERMISSIONS, permissionsOf } from '../../rules/roles.ts';
import { RoleEnum } from './enums.ts';
import { TenantRef } from './tenants.ts';

const PermissionEnum = builder.enumType('Permission', {
  description: 'What a key may do: read (everything of its tenant), manage (webhooks, topics), publish, operate (re-trigger, replay, pause), admin (keys, the tenant).',
  values: PERMISSIONS.map((p) => p.toUpperCase()),
});

const Viewer = builder.objectRef<Context['auth']['principal'] & {}>('Viewer').implement({
  description: 'Who is calling.',
  fields: (t) => ({
    operator: t.boolean({ resolve: (p) => p.kind === 'operator' }),
    role: t.field({ type: RoleEnum, nullable: true, resolve: (p) => (p.kind === 'key' ? p.role : null) }),
    permissions: t.field({
      type: [PermissionEnum],
      description: "What this key may do in its tenant, from its role (none for the operator key, which manages tenants). The dashboard offers only these.",
      resolve: (p) => (p.kind === 'key' ? permissionsOf(p.role) : []).map((x) => x.toUpperCase()) as never,
    }),
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
