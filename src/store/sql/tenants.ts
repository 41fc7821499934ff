import { Prisma } from '../../generated/prisma/client.ts';
import { VERSION } from './catalog.ts';

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

/**
 * Takes `events` tokens from a tenant's publish bucket if it has them (store/publishBuckets.ts): answers whether they were
 * taken, what there was, the rate and burst in effect, and the tenant's catalog version (so a publish needs no trip for it).
 */
export function takePublishTokens(tenantId: string, events: number, defaults: { rate: number; burst: number }): Prisma.Sql {
  return Prisma.sql`
    WITH lim AS (SELECT COALESCE(publish_rate, ${defaults.rate})::float8 AS rate, COALESCE(publish_burst, ${defaults.burst})::float8 AS burst FROM tenant WHERE id = ${tenantId}::uuid),
    cur AS (SELECT LEAST(lim.burst, b.tokens + lim.rate * extract(epoch FROM now() - b.at)) AS available FROM publish_bucket b, lim WHERE b.tenant_id = ${tenantId}::uuid),
    taken AS (
      INSERT INTO publish_bucket AS b (tenant_id, tokens, at) SELECT ${tenantId}::uuid, lim.burst - ${events}, now() FROM lim WHERE lim.burst >= ${events}
      ON CONFLICT (tenant_id) DO UPDATE SET
        tokens = LEAST((SELECT burst FROM lim), b.tokens + (SELECT rate FROM lim) * extract(epoch FROM now() - b.at)) - ${events}, at = now()
      WHERE LEAST((SELECT burst FROM lim), b.tokens + (SELECT rate FROM lim) * extract(epoch FROM now() - b.at)) >= ${events}
      RETURNING 1)
    SELECT (SELECT count(*) FROM taken)::int AS taken, (SELECT available FROM cur)::float8 AS available, lim.rate, lim.burst, ${VERSION(tenantId)} AS version FROM lim`;
}

/** Gives back tokens taken for a call refused after all (up to the burst). */
export function returnPublishTokens(tenantId: string, events: number, defaults: { burst: number }): Prisma.Sql {
  return Prisma.sql`
    UPDATE publish_bucket b SET tokens = LEAST(COALESCE(t.publish_burst, ${defaults.burst}), b.tokens + ${events})
    FROM tenant t WHERE b.tenant_id = ${tenantId}::uuid AND t.id = b.tenant_id`;
}
