import { db, type Tx } from '../db/client.ts';
import type { Prisma, Topic } from '../generated/prisma/client.ts';

/** Topics and their field catalogs as rows: finding, storing, changing, deleting, listing. */

/** The tenant's topic `where` names (by id or key); null when there is none. */
export function tenantTopic(tenantId: string, where: Prisma.TopicWhereInput, tx: Tx = db()): Promise<Topic | null> {
  return tx.topic.findFirst({ where: { tenantId, ...where } });
}

/** Stores a new topic with its fields (a unique violation when the key is taken). */
export function insertTopic(data: Prisma.TopicUncheckedCreateInput): Promise<Topic> {
  return db().topic.create({ data });
}

/** Changes a topic in the caller's transaction; `fields`, when given, replace its whole catalog. */
export async function changeTopic(tx: Tx, id: string, data: Omit<Prisma.TopicUpdateInput, 'fields'>, fields?: Prisma.TopicFieldCreateWithoutTopicInput[]): Promise<Topic> {
  if (fields) await tx.topicField.deleteMany({ where: { topicId: id } });
  return tx.topic.update({ where: { id }, data: { ...data, fields: fields ? { create: fields } : undefined } });
}

export async function removeTopic(id: string): Promise<void> {
  await db().topic.delete({ where: { id } });
}

/** A page of topics, by id, as a GraphQL query selects them (plugin-prisma's query, bounded by its keyset). */
export function topicPage(page: Omit<Prisma.TopicFindManyArgs, 'orderBy'>): Promise<Topic[]> {
  return db().topic.findMany({ ...page, orderBy: { id: 'asc' } });
}

/** One topic as `query` selects it (its tenant checked before). */
export function topicAs(query: Omit<Prisma.TopicFindUniqueOrThrowArgs, 'where'>, id: string): Promise<Topic> {
  return db().topic.findUniqueOrThrow({ ...query, where: { id } });
}
