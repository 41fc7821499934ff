import type { Tx } from '../db/client.ts';
import type { StoredHeader } from '../rules/webhookSettings.ts';
import * as sql from './sql/webhooks.ts';

const RESEAL_LOCK = 7_314_002;

/** Webhooks with a secret not sealed as `sealedNow` (a LIKE pattern), under a lock so that processes starting together look once. */
export async function lockNotSealed(tx: Tx, sealedNow: string) {
  await tx.$executeRaw(sql.resealLock(RESEAL_LOCK));
  return tx.$queryRaw<Array<{ id: string; secret: string; previous_secret: string | null; headers: StoredHeader[] }>>(sql.notSealedWith(sealedNow));
}
