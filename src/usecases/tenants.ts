import { describeKey, generateApiKey, type NewKey } from '../rules/keys.ts';
import type { Environment, Tenant } from '../generated/prisma/client.ts';
import { Problems, text } from '../rules/problems.ts';
import { notFound } from '../rules/errors.ts';
import { isUuid } from '../rules/values.ts';
import { builtInTopics } from '../rules/heraldTopic.ts';
import { checkTenantSettings, type TenantSettingsInput } from '../rules/tenants.ts';
import { anyTenant, changeTenant, holdSetupLock, insertTenant } from '../store/tenants.ts';
import { inTransaction } from '../store/transaction.ts';

export interface NewTenantInput extends TenantSettingsInput {
  name: string;
  environment: Environment;
  adminKeyName?: string | null;
}

/** Creates a tenant with its first ADMIN key (the operator's `createTenant`). */
export async function createTenant(input: NewTenantInput, chosenKey?: NewKey) {
  const problems = new Problems();
  const keyName = text(problems, 'input.adminKeyName', input.adminKeyName, { max: 200 }) || 'admin';
  problems.throwIfAny();
  const settings = checkTenantSettings(input, true);
  const secret = chosenKey ?? generateApiKey();
  const tenant = await insertTenant({
    ...settings,
    name: settings.name!,
    environment: input.environment,
    apiKeys: { create: { name: keyName, role: 'ADMIN', hash: secret.hash, prefix: secret.prefix } },
    topics: builtInTopics(),
  });
  return { tenant: tenant as Tenant, apiKey: tenant.apiKeys[0]!, key: secret.key };
}

/** Changes a tenant's name, retention, weight or publish limit (the operator's `updateTenant`); fields left out stay. */
export async function updateTenant(id: string, input: TenantSettingsInput): Promise<Tenant> {
  const data = checkTenantSettings(input, false);
  const tenant = isUuid(id) ? await changeTenant(id, data) : null;
  if (!tenant) throw notFound('tenant', id);
  return tenant;
}

/**
 * On the first start with an empty database, creates the tenant `default` with an
 * ADMIN key: the one given in HERALD_BOOTSTRAP_KEY, or a new one returned here to be
 * printed once. Processes starting together create it once.
 */
export async function bootstrapDefaultTenant(bootstrapKey?: string): Promise<{ created: boolean; key?: string }> {
  return inTransaction(async (tx) => {
    await holdSetupLock(tx);
    if (await anyTenant(tx)) return { created: false };
    const secret = bootstrapKey ? describeKey(bootstrapKey) : generateApiKey();
    await insertTenant(
      {
        name: 'default',
        environment: 'PRODUCTION',
        apiKeys: { create: { name: 'bootstrap', role: 'ADMIN', hash: secret.hash, prefix: secret.prefix } },
        topics: builtInTopics(),
      },
      tx,
    );
    return { created: true, key: bootstrapKey ? undefined : secret.key };
  });
}
