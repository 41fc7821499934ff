import { createApiKey, revokeApiKey } from '../../usecases/apiKeys.ts';
import { builder } from '../builder.ts';
import { keyset } from '../pages.ts';
import { tenantOf } from '../context.ts';
import { RoleEnum } from './enums.ts';
import { keyPage } from '../../store/tenants.ts';

export const ApiKeyRef = builder.prismaObject('ApiKey', {
  description: 'An API key. Its secret is shown once, when created, and never again.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    role: t.expose('role', { type: RoleEnum }),
    prefix: t.exposeString('prefix', { description: 'The first characters of the key, to tell keys apart.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    role: t.field({ type: RoleEnum, required: true }),
  }),
});

const CreatedApiKey = builder.simpleObject('CreatedApiKey', {
  fields: (t) => ({
    apiKey: t.field({ type: ApiKeyRef }),
    key: t.string({ description: 'The secret. Shown once: it is stored only as a hash.' }),
  }),
});

builder.queryField('apiKeys', (t) =>
  t.prismaConnection({
    description: "The tenant's API keys, newest first (never their secrets). ADMIN only.",
    type: 'ApiKey',
    cursor: 'id',
    authScopes: { admin: true },
    args: { includeRevoked: t.arg.boolean({ defaultValue: false }) },
    resolve: (query, _root, args, ctx) =>
      keyPage(keyset(query, 'desc', { tenantId: tenantOf(ctx), ...(args.includeRevoked ? {} : { revokedAt: null }) })),
  }),
);

builder.mutationField('createApiKey', (t) =>
  t.field({
    type: CreatedApiKey,
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) => createApiKey(tenantOf(ctx), input),
  }),
);

builder.mutationField('revokeApiKey', (t) =>
  t.prismaField({
    description: 'Revokes a key at once: requests with it are refused from now on.',
    type: 'ApiKey',
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_query, _root, { id }, ctx) => revokeApiKey(tenantOf(ctx), String(id)),
  }),
);
