import SchemaBuilder from '@pothos/core';
import ComplexityPlugin from '@pothos/plugin-complexity';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import SimpleObjectsPlugin from '@pothos/plugin-simple-objects';
import ScopeAuthPlugin, { AuthScopeFailureType, type AuthFailure } from '@pothos/plugin-scope-auth';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import { rolesWith, type Permission } from '../rules/roles.ts';
import { permissionsOfPrincipal } from '../usecases/authenticate.ts';
import { ormClient } from '../store/orm.ts';
import { forbidden, unauthenticated } from '../rules/errors.ts';
import type PrismaTypes from '../generated/pothos-types.ts';
import { getDatamodel } from '../generated/pothos-types.ts';
import type { Context } from './context.ts';
import { fieldCost, tooCostly } from './cost.ts';

type Scopes = Record<Permission, boolean> & { operator: boolean; tenant: boolean };

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  AuthScopes: Scopes;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
  };
}>({
  plugins: [ScopeAuthPlugin, ComplexityPlugin, DataloaderPlugin, PrismaPlugin, RelayPlugin, SimpleObjectsPlugin],
  complexity: {
    fieldComplexity: fieldCost as never,
    limit: (ctx) => ({ complexity: ctx.config.maxQueryCost }),
    complexityError: (_kind, { complexity, maxComplexity }) => tooCostly(complexity, maxComplexity ?? 0),
  },
  defaultFieldNullability: false,
  prisma: {
    client: ormClient,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
    onUnusedQuery: process.env.NODE_ENV === 'production' ? null : 'warn',
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: false,
    nodesQueryOptions: false,
  },
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) => {
      const principal = ctx.auth.principal;
      const granted = permissionsOfPrincipal(principal);
      const has = (p: Permission) => granted.includes(p);
      return {
        read: has('read'),
        manage: has('manage'),
        publish: has('publish'),
        operate: has('operate'),
        admin: has('admin'),
        tenant: principal?.kind === 'key',
        operator: principal?.kind === 'operator',
      };
    },
    unauthorizedError: (_parent, ctx, info, result) => {
      if (!ctx.auth.principal) return unauthenticated(ctx.auth.problem);
      const needed = neededRoles(result.failure);
      const who = ctx.auth.principal.kind === 'operator' ? 'the operator key' : ctx.auth.principal.portal ? `a ${ctx.auth.principal.role} portal session` : `a ${ctx.auth.principal.role} key`;
      return forbidden(`${info.parentType.name}.${info.fieldName} is not allowed for ${who}; it needs ${needed}`);
    },
  },
});

function neededRoles(failure: AuthFailure): string {
  const scopes = scopesOf(failure);
  if (scopes.includes('operator') && scopes.length === 1) return 'the operator key (HERALD_OPERATOR_KEY)';
  const roles = [...new Set(scopes.flatMap((s) => (s === 'tenant' ? ['any tenant'] : s === 'operator' ? [] : rolesWith(s as Permission))))];
  return roles.length ? `a key with role ${roles.join(' or ')}` : 'a different key';
}

function scopesOf(failure: AuthFailure): string[] {
  if (failure.kind === AuthScopeFailureType.AuthScope) return [failure.scope];
  if ('failures' in failure) return (failure.failures as AuthFailure[]).flatMap(scopesOf);
  return [];
}

/** A type's fields need `read`, however it was reached (a publish result, a subscription, a nested field). */
export const READERS = { authScopes: { read: true } } as const;
/** A field of a READERS type that a PUBLISHER sees in what publishing answers: ids and status, never configuration. */
export const ALSO_PUBLISHERS = { skipTypeScopes: true, authScopes: { $any: { read: true, publish: true } } } as const;

builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('JSON', JSONResolver);
builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
