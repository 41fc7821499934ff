import { query, type Tx } from '../db/client.ts';
import type { Role } from '../generated/prisma/client.ts';
import * as sql from './sql/tenants.ts';

/** An API key by its hash (one plain statement: every request makes it). */
export async function keyByHash(hash: string) {
  const [key] = await query<{ id: string; tenantId: string; role: Role; revokedAt: Date | null; lastUsedAt: Date | null }>(sql.keyByHash(hash));
  return key;
}

/** Holds a tenant's row for the transaction: its keys change one at a time. */
export async function lockTenant(tx: Tx, tenantId: string): Promise<void> {
  await tx.$executeRaw(sql.lockTenant(tenantId));
}

/** Holds the set-up lock for the transaction (first starts create the default tenant once). */
export async function holdSetupLock(tx: Tx, lock: number): Promise<void> {
  await tx.$executeRaw(sql.setupLock(lock));
}

/** Tenants' delivery weights (a look-up by primary key). */
export async function deliveryWeights(tenantIds: string[]): Promise<Map<string, number>> {
  const rows = await query<{ id: string; weight: number }>(sql.deliveryWeights(tenantIds));
  return new Map(rows.map((r) => [r.id, r.weight]));
}
