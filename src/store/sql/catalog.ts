import { Prisma } from '../../generated/prisma/client.ts';
import { topics } from './topics.ts';
import { matching } from './webhooks.ts';

/** Statements that read what a publish matches against (store/catalog.ts caches it). */

export const VERSION = (tenantId: string) => Prisma.sql`COALESCE((SELECT v.version FROM catalog_version v WHERE v.tenant_id = ${tenantId}::uuid), 0)::text`;

/** The tenant's catalog version: counted up by the triggers of every change to its topics and webhooks. */
export function version(tenantId: string): Prisma.Sql {
  return Prisma.sql`SELECT ${VERSION(tenantId)} AS version`;
}

/** In one statement (one snapshot): the version, the tenant's topics, and its webhooks on `topicKeys`. */
export function catalog(tenantId: string, topicKeys: string[]): Prisma.Sql {
  return Prisma.sql`SELECT ${VERSION(tenantId)} AS version, (${topics(tenantId)}) AS topics, (${matching(tenantId, topicKeys)}) AS webhooks`;
}
