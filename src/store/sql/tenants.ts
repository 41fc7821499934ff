import { Prisma } from '../../generated/prisma/client.ts';

/** Statements on tenants and their API keys. */

/** An API key by its hash (every request reads it). */
export function keyByHash(hash: string): Prisma.Sql {
  return Prisma.sql`
    SELECT id::text AS id, tenant_id::text AS "tenantId", role::text AS role, revoked_at AS "revokedAt", last_used_at AS "lastUsedAt"
    FROM api_key WHERE hash = ${hash}`;
}

/** Locks a tenant's row: changes to its keys happen one at a time. */
export function lockTenant(tenantId: string): Prisma.Sql {
  return Prisma.sql`SELECT 1 FROM tenant WHERE id = ${tenantId}::uuid FOR UPDATE`;
}

/** The lock first starts take to create the default tenant once. */
export function setupLock(lock: number): Prisma.Sql {
  return Prisma.sql`SELECT pg_advisory_xact_lock(${lock})`;
}

/** Tenants' delivery weights, by id. */
export function deliveryWeights(tenantIds: string[]): Prisma.Sql {
  return Prisma.sql`SELECT id::text, delivery_weight AS weight FROM tenant WHERE id = ANY(${tenantIds}::uuid[])`;
}
