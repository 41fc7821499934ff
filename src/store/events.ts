import { db, type Tx } from '../db/client.ts';
import type { Event, Instance, Prisma } from '../generated/prisma/client.ts';
import * as sql from './sql/events.ts';

/** Reading stored events: pages, one, by id, the latest of a kind, and those idempotency keys name. */

/** What events may be listed by (Query.events). */
export interface EventFilter {
  topic?: string | null;
  action?: string | null;
  entityId?: string | null;
  since?: Date | null;
  until?: Date | null;
}

/** Which of the tenant's events a filter selects. */
export function eventWhere(tenantId: string, f: EventFilter): Prisma.EventWhereInput {
  return {
    tenantId,
    ...(f.topic ? { topic: f.topic } : {}),
    ...(f.action ? { action: f.action } : {}),
    ...(f.entityId ? { entityId: f.entityId } : {}),
    ...(f.since || f.until ? { createdAt: { ...(f.since ? { gte: f.since } : {}), ...(f.until ? { lt: f.until } : {}) } } : {}),
  };
}

/** A page of events, newest first, as a GraphQL query selects them (plugin-prisma's query, bounded by its keyset). */
export function eventPage(page: Omit<Prisma.EventFindManyArgs, 'orderBy'>): Promise<Event[]> {
  return db().event.findMany({ ...page, orderBy: { id: 'desc' } });
}

/** One of the tenant's events as `query` selects it; null when there is none (or it is another tenant's). */
export function tenantEvent(query: Omit<Prisma.EventFindFirstArgs, 'where'>, tenantId: string, id: string): Promise<Event | null> {
  return db().event.findFirst({ ...query, where: { id, tenantId } });
}

/** Events by id (whoever's: callers check the tenant). */
export function eventsById(ids: readonly string[]): Promise<Event[]> {
  return db().event.findMany({ where: { id: { in: [...ids] } } });
}

/** The tenant's latest event of a topic with one of these actions: through (tenant_id, topic, id), newest first, a few rows whatever else is stored. */
export function latestEvent(tenantId: string, topic: string, actions: string[]): Promise<Event | null> {
  return db().event.findFirst({ where: { tenantId, topic, action: { in: actions } }, orderBy: { id: 'desc' } });
}

/** The tenant's events stored under these idempotency keys, with their deliveries, in the caller's transaction. */
export function eventsByKeys(tx: Tx, tenantId: string, keys: string[]): Promise<Array<Event & { instances: Instance[] }>> {
  return keys.length ? tx.event.findMany({ where: { tenantId, idempotencyKey: { in: keys } }, include: { instances: true } }) : Promise.resolve([]);
}

/** A page of the tenant's stored events a webhook never received (see sql/events.ts). */
export function eventsNotReceived(...args: Parameters<typeof sql.notReceived>): Promise<Event[]> {
  return db().$queryRaw<Event[]>(sql.notReceived(...args));
}
