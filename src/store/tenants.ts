import { db, query, type Tx } from '../db/client.ts';
import type { ApiKey, Prisma, Role, Tenant } from '../generated/prisma/client.ts';
import { SETUP_LOCK } from '../db/migrate.ts';
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

/** Holds the set-up lock (the migrations' own) for the transaction: first starts create the default tenant once. */
export async function holdSetupLock(tx: Tx): Promise<void> {
  await tx.$executeRaw(sql.setupLock(SETUP_LOCK));
}

/** Tenants' delivery weights (a look-up by primary key). */
export async function deliveryWeights(tenantIds: string[]): Promise<Map<string, number>> {
  const rows = await query<{ id: string; weight: number }>(sql.deliveryWeights(tenantIds));
  return new Map(rows.map((r) => [r.id, r.weight]));
}

/** A new tenant with what `data` creates with it (its first key, its built-in topic); answers it with its keys. */
export function insertTenant(data: Prisma.TenantCreateInput, tx: Tx = db()): Promise<Tenant & { apiKeys: ApiKey[] }> {
  return tx.tenant.create({ data, include: { apiKeys: true } });
}

/** Changes a tenant's settings; null when there is no such tenant. */
export async function changeTenant(id: string, data: Prisma.TenantUpdateManyMutationInput): Promise<Tenant | null> {
  const [tenant] = await db().tenant.updateManyAndReturn({ where: { id }, data });
  return tenant ?? null;
}

/** Whether any tenant exists (the first start makes one). */
export async function anyTenant(tx: Tx): Promise<boolean> {
  return (await tx.tenant.count()) > 0;
}

export async function tenantExists(id: string): Promise<boolean> {
  return !!(await db().tenant.findUnique({ where: { id }, select: { id: true } }));
}

export function tenantById(id: string): Promise<Tenant> {
  return db().tenant.findUniqueOrThrow({ where: { id } });
}

/** A page of tenants, by id (plugin-prisma's query, bounded by its keyset). */
export function tenantPage(page: Omit<Prisma.TenantFindManyArgs, 'orderBy'>): Promise<Tenant[]> {
  return db().tenant.findMany({ ...page, orderBy: { id: 'asc' } });
}

export function insertApiKey(data: Prisma.ApiKeyUncheckedCreateInput): Promise<ApiKey> {
  return db().apiKey.create({ data });
}

/** One of the tenant's keys, in the caller's transaction; null when there is none (or it is another tenant's). */
export function tenantKey(tx: Tx, tenantId: string, id: string): Promise<ApiKey | null> {
  return tx.apiKey.findFirst({ where: { id, tenantId } });
}

/** How many ADMIN keys of the tenant are not revoked. */
export function activeAdminKeys(tx: Tx, tenantId: string): Promise<number> {
  return tx.apiKey.count({ where: { tenantId, role: 'ADMIN', revokedAt: null } });
}

export function revokeKey(tx: Tx, id: string): Promise<ApiKey> {
  return tx.apiKey.update({ where: { id }, data: { revokedAt: new Date() } });
}

/** Notes that a key was used now. */
export async function touchKey(id: string): Promise<void> {
  await db().apiKey.update({ where: { id }, data: { lastUsedAt: new Date() } });
}

export function keyById(id: string): Promise<ApiKey> {
  return db().apiKey.findUniqueOrThrow({ where: { id } });
}

/** A page of keys, newest first (plugin-prisma's query, bounded by its keyset). */
export function keyPage(page: Omit<Prisma.ApiKeyFindManyArgs, 'orderBy'>): Promise<ApiKey[]> {
  return db().apiKey.findMany({ ...page, orderBy: { id: 'desc' } });
}
