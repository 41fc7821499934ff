import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, errorOf, OPERATOR_KEY, startTestApp, type TestApp } from './support/app.ts';

const CREATE_KEY = `mutation($name: String!, $role: Role!) { createApiKey(input: { name: $name, role: $role }) { key apiKey { id prefix role } } }`;

describe('who is calling', () => {
  let t: TestApp;
  const keys: Record<string, string> = {};
  beforeAll(async () => {
    t = await startTestApp();
    for (const role of ['ADMIN', 'DEVELOPER', 'PUBLISHER', 'VIEWER']) {
      keys[role] = (await t.ok(CREATE_KEY, { name: `${role} key`, role })).createApiKey.key;
    }
  });

  it("viewer answers the key's role and tenant, or the operator", async () => {
    expect(await t.ok('{ viewer { role operator tenant { name environment } } }')).toEqual({
      viewer: { role: 'ADMIN', operator: false, tenant: { name: 'default', environment: 'PRODUCTION' } },
    });
    expect(await t.ok('{ viewer { role operator tenant { name } } }', {}, OPERATOR_KEY)).toEqual({
      viewer: { role: null, operator: true, tenant: null },
    });
    expect((await t.ok('{ viewer { role } }', {}, keys.PUBLISHER)).viewer.role).toBe('PUBLISHER');
    // What each may do, as the dashboard offers it.
    expect((await t.ok('{ viewer { permissions } }')).viewer.permissions).toEqual(['READ', 'MANAGE', 'PUBLISH', 'OPERATE', 'ADMIN']);
    expect((await t.ok('{ viewer { permissions } }', {}, keys.VIEWER)).viewer.permissions).toEqual(['READ']);
    expect((await t.ok('{ viewer { permissions } }', {}, keys.PUBLISHER)).viewer.permissions).toEqual(['PUBLISH']);
    expect((await t.ok('{ viewer { permissions } }', {}, OPERATOR_KEY)).viewer.permissions).toEqual([]);
  });

  it.each([
    ['no key', null, 'no API key given'],
    ['an unknown key', 'hk_not_a_real_key_00000000000000', 'unknown API key'],
  ])('%s is UNAUTHENTICATED', async (_name, key, message) => {
    const error = errorOf(await t.gql('{ topics { edges { node { id } } } }', {}, key), 'UNAUTHENTICATED');
    expect(error.message).toContain(message);
  });

  it('a malformed Authorization header is UNAUTHENTICATED', async () => {
    const response = await t.app.yoga.fetch('http://herald.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${ADMIN_KEY}` },
      body: JSON.stringify({ query: '{ viewer { role } }' }),
    });
    const error = errorOf(await response.json(), 'UNAUTHENTICATED');
    expect(error.message).toContain('malformed Authorization header');
  });

  it('a new key is shown once, random enough, and stored only as a hash', async () => {
    const created = (await t.ok(CREATE_KEY, { name: 'ci', role: 'VIEWER' })).createApiKey;
    expect(created.key).toMatch(/^hk_[A-Za-z0-9_-]{32}$/); // 24 random bytes: 192 bits
    expect(created.key.startsWith(created.apiKey.prefix)).toBe(true);
    const fields = (await t.ok('{ __type(name: "ApiKey") { fields { name } } }')).__type.fields.map((f: { name: string }) => f.name);
    expect(fields.sort()).toEqual(['createdAt', 'id', 'lastUsedAt', 'name', 'prefix', 'revokedAt', 'role']);
    const client = new pg.Client({ connectionString: t.databaseUrl });
    await client.connect();
    const row = (await client.query('SELECT * FROM api_key WHERE id = $1', [created.apiKey.id])).rows[0];
    await client.end();
    expect(JSON.stringify(row)).not.toContain(created.key);
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
    const listed = await t.ok('{ apiKeys(first: 50) { edges { node { id prefix role } } } }');
    expect(listed.apiKeys.edges.map((e: any) => e.node.id)).toContain(created.apiKey.id);
  });

  describe('each role is allowed what PRODUCT.md grants and refused the rest', () => {
    const operations: Array<[string, string, () => Record<string, unknown>, string[]]> = [
      ['read topics', '{ topics { edges { node { key } } } }', () => ({}), ['ADMIN', 'DEVELOPER', 'VIEWER']],
      ['create a topic', 'mutation($k: String!) { createTopic(input: { key: $k, name: "T" }) { key } }', () => ({ k: `t${Math.random().toString(36).slice(2, 8)}` }), ['ADMIN', 'DEVELOPER']],
      ['update a topic', 'mutation { updateTopic(key: "shared", input: { name: "Renamed" }) { key } }', () => ({}), ['ADMIN', 'DEVELOPER']],
      ['list API keys', '{ apiKeys { edges { node { id } } } }', () => ({}), ['ADMIN']],
      ['create an API key', CREATE_KEY, () => ({ name: 'x', role: 'VIEWER' }), ['ADMIN']],
      ['create a tenant', 'mutation { createTenant(input: { name: "T", environment: SANDBOX }) { key } }', () => ({}), []],
      ['change a tenant’s retention', 'mutation($id: ID!) { updateTenant(id: $id, input: { retentionDays: 3650 }) { id } }', () => ({ id: ownTenant }), []],
    ];
    let ownTenant: string;
    beforeAll(async () => {
      ownTenant = (await t.ok('{ viewer { tenant { id } } }')).viewer.tenant.id;
      await t.ok('mutation { createTopic(input: { key: "shared", name: "Shared" }) { key } }');
    });

    for (const [what, query, variables, allowed] of operations) {
      for (const role of ['ADMIN', 'DEVELOPER', 'PUBLISHER', 'VIEWER']) {
        const may = allowed.includes(role);
        it(`${role} ${may ? 'may' : 'may not'} ${what}`, async () => {
          const result = await t.gql(query, variables(), keys[role]);
          if (may) {
            expect(result.errors).toBeUndefined();
          } else {
            const error = errorOf(result, 'FORBIDDEN');
            expect(error.message).toContain(`is not allowed for a ${role} key`);
            expect(error.message).toContain(allowed.length ? `role ${allowed.join(' or ')}` : 'the operator key');
          }
        });
      }
    }

    it('a PUBLISHER may not delete a topic, a DEVELOPER may', async () => {
      errorOf(await t.gql('mutation { deleteTopic(key: "shared") { key } }', {}, keys.PUBLISHER), 'FORBIDDEN');
      errorOf(await t.gql('mutation { deleteTopic(key: "shared") { key } }', {}, keys.VIEWER), 'FORBIDDEN');
      expect((await t.ok('mutation { deleteTopic(key: "shared") { key } }', {}, keys.DEVELOPER)).deleteTopic.key).toBe('shared');
    });
  });

  it('a revoked key is refused from then on', async () => {
    const { key, apiKey } = (await t.ok(CREATE_KEY, { name: 'temp', role: 'DEVELOPER' })).createApiKey;
    expect((await t.ok('{ viewer { role } }', {}, key)).viewer.role).toBe('DEVELOPER');
    const revoked = await t.ok('mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }', { id: apiKey.id });
    expect(revoked.revokeApiKey.revokedAt).not.toBeNull();
    const error = errorOf(await t.gql('{ viewer { role } }', {}, key), 'UNAUTHENTICATED');
    expect(error.message).toContain('revoked');
    const active = await t.ok('{ apiKeys { edges { node { id } } } }');
    expect(active.apiKeys.edges.map((e: any) => e.node.id)).not.toContain(apiKey.id);
    const all = await t.ok('{ apiKeys(includeRevoked: true) { edges { node { id } } } }');
    expect(all.apiKeys.edges.map((e: any) => e.node.id)).toContain(apiKey.id);
  });

  it("the operator creates a tenant whose first ADMIN key works, and cannot read tenants' data itself", async () => {
    const created = (
      await t.ok('mutation { createTenant(input: { name: "Acme LMS", environment: SANDBOX }) { key tenant { id name environment } apiKey { role } } }', {}, OPERATOR_KEY)
    ).createTenant;
    expect(created.apiKey.role).toBe('ADMIN');
    expect(await t.ok('{ viewer { role tenant { name environment } } }', {}, created.key)).toEqual({
      viewer: { role: 'ADMIN', tenant: { name: 'Acme LMS', environment: 'SANDBOX' } },
    });
    errorOf(await t.gql('{ topics { edges { node { key } } } }', {}, OPERATOR_KEY), 'FORBIDDEN');

    // Its only ADMIN key cannot be revoked: nobody could manage the tenant's keys afterwards.
    const own = (await t.ok('{ viewer { apiKey { id } } }', {}, created.key)).viewer.apiKey.id;
    const error = errorOf(await t.gql('mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: own }, created.key), 'CONFLICT');
    expect(error.message).toContain('last active ADMIN key');
    // Nor can another tenant touch it.
    errorOf(await t.gql('mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: own }), 'NOT_FOUND');
    // Nor read its events, one by one.
    await t.ok('mutation { createTopic(input: { key: "course", name: "Course" }) { key } }', {}, created.key);
    const theirs = (await t.ok('mutation { publishEvent(input: { event: { topic: "course", action: "created", entityId: "c1", data: {} } }) { event { id } } }', {}, created.key)).publishEvent.event.id;
    expect((await t.ok('query($id: ID!) { event(id: $id) { entityId } }', { id: theirs }, created.key)).event.entityId).toBe('c1');
    errorOf(await t.gql('query($id: ID!) { event(id: $id) { id } }', { id: theirs }), 'NOT_FOUND');
    expect(errorOf(await t.gql('query($id: ID!) { event(id: $id) { id } }', { id: 'not-an-id' }), 'BAD_USER_INPUT').extensions!.field).toBe('id');
  });

  it('createApiKey refuses an empty name, naming the field', async () => {
    const error = errorOf(await t.gql(CREATE_KEY, { name: '  ', role: 'VIEWER' }), 'BAD_USER_INPUT');
    expect(error.message).toBe('input.name: must not be empty');
    expect(error.extensions?.field).toBe('input.name');
  });
});
