import { db, inOneTrip, type Tx } from '../db/client.ts';
import type { Event, Instance } from '../generated/prisma/client.ts';
import { enqueueStatements, type NewDelivery } from '../queue/boss.ts';
import * as sql from './sql/events.ts';

/**
 * Stores published events with their instances and announces them. `jobs` given: the
 * whole transaction (with the delivery jobs) goes in one round trip.
 */
export async function storeEvents(events: Event[], instances: Instance[], jobs: NewDelivery[]): Promise<void> {
  const statements = [...(events.length ? [sql.store(events, instances)] : []), ...(jobs.length ? await enqueueStatements(jobs) : [])];
  await inOneTrip(statements.map(({ text, values }) => ({ text, values })));
}

/** The same, inside a transaction the caller holds. */
export async function storeEventsIn(tx: Tx, events: Event[], instances: Instance[]): Promise<void> {
  if (events.length) await tx.$executeRaw(sql.store(events, instances));
}

/** A page of the tenant's stored events a webhook never received (see sql/events.ts). */
export function eventsNotReceived(...args: Parameters<typeof sql.notReceived>): Promise<Event[]> {
  return db().$queryRaw<Event[]>(sql.notReceived(...args));
}
