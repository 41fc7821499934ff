import { Prisma } from '../../generated/prisma/client.ts';

/** A subquery: the tenant's topics with their field catalogs as one JSON array (so a caller can read more in the same statement). */
export function topics(tenantId: string): Prisma.Sql {
  return Prisma.sql`
    SELECT COALESCE(json_agg(json_build_object('key', t.key, 'resourceUrlTemplate', t.resource_url_template, 'customActions', t.custom_actions, 'builtIn', t.built_in, 'entityIdType', t.entity_id_type,
      'fields', COALESCE((SELECT json_agg(json_build_object('path', f.path, 'type', f.type, 'values', f.values, 'mergeTag', f.merge_tag) ORDER BY f.position)
        FROM topic_field f WHERE f.topic_id = t.id), '[]'))), '[]')
    FROM topic t WHERE t.tenant_id = ${tenantId}::uuid`;
}

/** The tenant's topics as one row. */
export function tenantTopics(tenantId: string): Prisma.Sql {
  return Prisma.sql`SELECT (${topics(tenantId)}) AS topics`;
}
