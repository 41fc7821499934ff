import { describeKey, generateApiKey, type NewKey } from '../rules/keys.ts';
import { db } from '../db/client.ts';
import { holdSetupLock } from '../store/tenants.ts';
import { SETUP_LOCK } from '../db/migrate.ts';
import type { Environment, Tenant } from '../generated/prisma/client.ts';
import { Problems, text } from '../rules/problems.ts';
import { builtInTopics } from '../rules/heraldTopic.ts';

export const ENVIRONMENTS: Environment[] = ['SANDBOX', 'PRODUCTION'];

export interface NewTenantInput {
  name: string;
  environment: Environment;
  adminKeyName?: string | null;
}

/** Creates a tenant with its first ADMIN key (the operator's `createTenant`). */
export async function createTenant(input: NewTenantInput, chosenKey?: NewKey) {
  const problems = new Problems();
  const name = text(problems, 'input.name', input.name, { required: true, max: 200 })!;
  const keyName = text(problems, 'input.adminKeyName', input.adminKeyName, { max: 200 }) || 'admin';
  problems.throwIfAny();
  const secret = chosenKey ?? generateApiKey();
  const tenant = await db().tenant.create({
    data: {
      name,
      environment: input.environment,
      apiKeys: { create: { name: keyName, role: 'ADMIN', hash: secret.hash, prefix: secret.prefix } },
      topics: builtInTopics(),
    },
    include: { apiKeys: true },
  });
  return { tenant: tenant as Tenant, apiKey: tenant.apiKeys[0]!, key: secret.key };
}

/**
 * On the first start with an empty database, creates the tenant `default` with an
 * ADMIN key: the one given in HERALD_BOOTSTRAP_KEY, or a new one returned here to be
 * printed once. Processes starting together create it once.
 */
export async function bootstrapDefaultTenant(bootstrapKey?: string): Promise<{ created: boolean; key?: string }> {
  return db().$transaction(async (tx) => {
    await holdSetupLock(tx, SETUP_LOCK);
    if ((await tx.tenant.count()) > 0) return { created: false };
    const secret = bootstrapKey ? describeKey(bootstrapKey) : generateApiKey();
    await tx.tenant.create({
      data: {
        name: 'default',
        environment: 'PRODUCTION',
        apiKeys: { create: { name: 'bootstrap', role: 'ADMIN', hash: secret.hash, prefix: secret.prefix } },
        topics: builtInTopics(),
      },
    });
    return { created: true, key: bootstrapKey ? undefined : secret.key };
  });
}
