import { db, type Tx } from '../db/client.ts';
import type { Webhook } from '../generated/prisma/client.ts';
import type { StoredHeader } from '../rules/webhookSettings.ts';
import * as sql from './sql/webhooks.ts';

const RESEAL_LOCK = 7_314_002;

/** The labels and event types of the tenant's webhooks (not deleted) on a topic. */
export function webhooksOnTopic(tenantId: string, key: string): Promise<Array<{ label: string; eventTypes: string[] }>> {
  return db().webhook.findMany({ where: { tenantId, deletedAt: null, topics: { has: key } }, select: { label: true, eventTypes: true } });
}

/** Webhooks by id (whoever's: callers check the tenant). */
export function webhooksById(ids: readonly string[]): Promise<Webhook[]> {
  return db().webhook.findMany({ where: { id: { in: [...ids] } } });
}

/** Webhooks with a secret not sealed as `sealedNow` (a LIKE pattern), under a lock so that processes starting together look once. */
export async function lockNotSealed(tx: Tx, sealedNow: string) {
  await tx.$executeRaw(sql.resealLock(RESEAL_LOCK));
  return tx.$queryRaw<Array<{ id: string; secret: string; previous_secret: string | null; headers: StoredHeader[] }>>(sql.notSealedWith(sealedNow));
}
