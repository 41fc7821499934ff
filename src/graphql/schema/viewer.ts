import { builder } from '../builder.ts';
import type { Context } from '../context.ts';
import { ApiKeyRef } from './apiKeys.ts';
import { PERMISSIONS } from '../../rules/roles.ts';
import { permissionsOfPrincipal } from '../../usecases/authenticate.ts';
import { RoleEnum } from './enums.ts';
import { TenantRef } from './tenants.ts';
import { keyById, tenantById } from '../../store/tenants.ts';

const PermissionEnum = builder.enumType('Permission', {
  description: 'What a key may do: read (everything of its tenant), manage (webhooks, topics), publish, operate (re-trigger, replay, pause), admin (keys, the tenant).',
  values: PERMISSIONS.map((p) => p.toUpperCase()),
});

const PortalRef = builder.simpleObject('PortalSession', {
  fields: (t) => ({
    expiresAt: t.field({ type: 'DateTime' }),
    brandName: t.string({ nullable: true }),
    brandColor: t.string({ nullable: true }),
  }),
});

const Viewer = builder.objectRef<Context['auth']['principal'] & {}>('Viewer').implement({
  description: 'Who is calling.',
  fields: (t) => ({
    operator: t.boolean({ resolve: (p) => p.kind === 'operator' }),
    role: t.field({ type: RoleEnum, nullable: true, resolve: (p) => (p.kind === 'key' ? p.role : null) }),
    permissions: t.field({
      type: [PermissionEnum],
      description: "What this key may do in its tenant, from its role (none for the operator key, which manages tenants; a portal session never has ADMIN). The dashboard offers only these.",
      resolve: (p) => permissionsOfPrincipal(p).map((x) => x.toUpperCase()) as never,
    }),
    tenant: t.field({
      type: TenantRef,
      nullable: true,
      resolve: (p) => (p.kind === 'key' ? tenantById(p.tenantId) : null),
    }),
    apiKey: t.field({
      type: ApiKeyRef,
      nullable: true,
      resolve: (p) => (p.kind === 'key' && !p.portal ? keyById(p.keyId) : null),
    }),
    portal: t.field({
      type: PortalRef,
      nullable: true,
      description: 'A portal session (an embedded dashboard): when it ends, and the vendor\'s name and colour.',
      resolve: (p) => (p.kind === 'key' && p.portal ? p.portal : null),
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
