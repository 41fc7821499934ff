import { db } from '../db/client.ts';
import type { Event } from '../generated/prisma/client.ts';
import * as sql from './sql/events.ts';

/** A page of the tenant's stored events a webhook never received (see sql/events.ts). */
export function eventsNotReceived(...args: Parameters<typeof sql.notReceived>): Promise<Event[]> {
  return db().$queryRaw<Event[]>(sql.notReceived(...args));
}
