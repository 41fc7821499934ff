import { generateApiKey } from '../rules/keys.ts';
import { conflict, notFound } from '../rules/errors.ts';
import type { Role } from '../generated/prisma/client.ts';
import { Problems, text } from '../rules/problems.ts';
import { notify } from '../pubsub/changes.ts';
import { activeAdminKeys, insertApiKey, lockTenant, revokeKey, tenantKey } from '../store/tenants.ts';
import { inTransaction } from '../store/transaction.ts';
import { forgetKey } from './authenticate.ts';

export async function createApiKey(tenantId: string, input: { name: string; role: Role }) {
  const problems = new Problems();
  const name = text(problems, 'input.name', input.name, { required: true, max: 200 })!;
  problems.throwIfAny();
  const secret = generateApiKey();
  const apiKey = await insertApiKey({ tenantId, name, role: input.role, hash: secret.hash, prefix: secret.prefix });
  return { apiKey, key: secret.key };
}

/** Revokes a key at once. The tenant's last active ADMIN key cannot be revoked: nobody could manage keys after it. */
export async function revokeApiKey(tenantId: string, id: string) {
  const revoked = await inTransaction(async (tx) => {
    await lockTenant(tx, tenantId);
    const key = await tenantKey(tx, tenantId, id);
    if (!key) throw notFound('API key', id);
    if (key.revokedAt) return key;
    if (key.role === 'ADMIN') {
      const admins = await activeAdminKeys(tx, tenantId);
      if (admins <= 1) {
        throw conflict('this is the last active ADMIN key of the tenant; create another ADMIN key before revoking it', 'id');
      }
    }
    await notify(tx, [{ k: 'key', t: tenantId, id }]);
    return revokeKey(tx, id);
  });
  // Other processes hear it from the change feed; this one forgets the key before answering.
  forgetKey(id);
  return revoked;
}
