import { db } from '../../db/client.ts';
import { createTenant } from '../../usecases/tenants.ts';
import { builder } from '../builder.ts';
import { keyset } from '../pages.ts';
import { ApiKeyRef } from './apiKeys.ts';
import { EnvironmentEnum } from './enums.ts';

export const TenantRef = builder.prismaObject('Tenant', {
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    environment: t.expose('environment', { type: EnvironmentEnum }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const CreateTenantInput = builder.inputType('CreateTenantInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    environment: t.field({ type: EnvironmentEnum, required: true }),
    adminKeyName: t.string({ description: 'Name of the first ADMIN key (default "admin").' }),
  }),
});

const CreatedTenant = builder.simpleObject('CreatedTenant', {
  fields: (t) => ({
    tenant: t.field({ type: TenantRef }),
    apiKey: t.field({ type: ApiKeyRef }),
    key: t.string({ description: 'The first ADMIN key. Shown once: it is stored only as a hash.' }),
  }),
});

builder.mutationField('createTenant', (t) =>
  t.field({
    description: 'Creates a tenant with its first ADMIN key. Operator key only.',
    type: CreatedTenant,
    authScopes: { operator: true },
    args: { input: t.arg({ type: CreateTenantInput, required: true }) },
    resolve: (_root, { input }) => createTenant(input),
  }),
);

builder.queryField('tenants', (t) =>
  t.prismaConnection({
    description: 'Every tenant. Operator key only.',
    type: 'Tenant',
    cursor: 'id',
    authScopes: { operator: true },
    resolve: (query) => db().tenant.findMany({ ...keyset(query, 'asc', {}), orderBy: { id: 'asc' } }),
  }),
);
