import { beforeAll, describe, expect, it } from 'vitest';
import { errorOf, OPERATOR_KEY, startTestApp, type TestApp } from './support/app.ts';
import { runSql } from './support/database.ts';

const PUBLISH = 'mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { event { id } } }';
const events = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => ({ event: { topic: 'order', action: 'created', entityId: `${prefix}-${i}`, data: {} } }));

/** Admission at publish: a tenant's publish limit (a bucket every api process shares) and the deliveries one call may create. */
describe('publish limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ HERALD_MAX_DELIVERIES_PER_CALL: '5' });
  });

  /** A tenant made by the operator, with a topic, and its key. */
  async function tenant(input: object): Promise<{ id: string; key: string }> {
    const { createTenant } = await t.ok('mutation($input: CreateTenantInput!) { createTenant(input: $input) { key tenant { id } } }', { input: { name: 'limited', environment: 'PRODUCTION', ...input } }, OPERATOR_KEY);
    await t.ok('mutation { createTopic(input: { key: "order", name: "Order" }) { key } }', {}, createTenant.key);
    return { id: createTenant.tenant.id, key: createTenant.key };
  }
  const stored = async (tenantId: string) => (await runSql(t.databaseUrl, "SELECT count(*)::int AS n FROM event WHERE tenant_id = $1 AND topic = 'order'", [tenantId]))[0].n as number;

  it("the operator sets a tenant's limit and weight; the tenant reads them, and the server's defaults where it has none", async () => {
    const own = await tenant({ publishRate: 5, publishBurst: 10, deliveryWeight: 3 });
    const read = `{ viewer { tenant { deliveryWeight publishRate publishBurst publishLimit { eventsPerSecond burst } } } }`;
    expect((await t.ok(read, {}, own.key)).viewer.tenant).toEqual({ deliveryWeight: 3, publishRate: 5, publishBurst: 10, publishLimit: { eventsPerSecond: 5, burst: 10 } });
    const plain = await tenant({});
    expect((await t.ok(read, {}, plain.key)).viewer.tenant).toEqual({ deliveryWeight: 1, publishRate: null, publishBurst: null, publishLimit: { eventsPerSecond: 10_000, burst: 100_000 } });
    await t.ok('mutation($id: ID!) { updateTenant(id: $id, input: { publishRate: null, deliveryWeight: 2 }) { id } }', { id: own.id }, OPERATOR_KEY);
    expect((await t.ok(read, {}, own.key)).viewer.tenant).toEqual({ deliveryWeight: 2, publishRate: null, publishBurst: 10, publishLimit: { eventsPerSecond: 10_000, burst: 10 } });
  });

  it('refuses weights and limits out of range, naming the field and what is allowed', async () => {
    const { id } = await tenant({});
    for (const [input, field, allowed] of [
      [{ deliveryWeight: 0 }, 'input.deliveryWeight', 'from 1 to 100'],
      [{ deliveryWeight: null }, 'input.deliveryWeight', 'must not be null'],
      [{ publishRate: 0 }, 'input.publishRate', 'from 1 to 1000000'],
      [{ publishBurst: 20_000_000 }, 'input.publishBurst', 'from 1 to 10000000'],
    ] as const) {
      const error = errorOf(await t.gql('mutation($id: ID!, $input: UpdateTenantInput!) { updateTenant(id: $id, input: $input) { id } }', { id, input }, OPERATOR_KEY), 'BAD_USER_INPUT');
      expect(error.extensions!.field).toBe(field);
      expect(error.message).toContain(allowed);
    }
    const { key } = await tenant({});
    errorOf(await t.gql('mutation($id: ID!) { updateTenant(id: $id, input: { deliveryWeight: 100 }) { id } }', { id }, key), 'FORBIDDEN');
  });

  it('over its limit a call stores nothing and answers RATE_LIMITED with when to try again, in extensions and Retry-After', async () => {
    // One event a second: the bucket, emptied, takes three seconds to hold the next call's three.
    const { id, key } = await tenant({ publishRate: 1, publishBurst: 10 });
    await t.ok(PUBLISH, { inputs: events(10, 'burst') }, key);
    expect(await stored(id)).toBe(10);
    const response = await t.app.yoga.fetch('http://herald.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: PUBLISH, variables: { inputs: events(3, 'over') } }),
    });
    const result = (await response.json()) as { errors: Array<{ message: string; extensions: Record<string, unknown> }> };
    expect(result.errors[0]!.extensions.code).toBe('RATE_LIMITED');
    const retryAfterMs = result.errors[0]!.extensions.retryAfterMs as number;
    // Three events at one a second: at most 3 s (less what refilled since the first call).
    expect(retryAfterMs).toBeGreaterThan(0);
    expect(retryAfterMs).toBeLessThanOrEqual(3000);
    expect(result.errors[0]!.extensions.http).toBeUndefined();
    expect(response.headers.get('retry-after')).toBe(String(Math.ceil(retryAfterMs / 1000)));
    expect(result.errors[0]!.message).toContain('its limit of 1 event a second');
    expect(await stored(id)).toBe(10);
    // A call bigger than its burst can never pass: said so, as bad input.
    const tooBig = errorOf(await t.gql(PUBLISH, { inputs: events(11, 'big') }, key), 'BAD_USER_INPUT');
    expect(tooBig.extensions!.field).toBe('inputs');
    expect(tooBig.message).toContain('at most 10 events at once');
    // After the wait it said, the call goes.
    await new Promise((resolve) => setTimeout(resolve, retryAfterMs));
    await t.ok(PUBLISH, { inputs: events(3, 'later') }, key);
    expect(await stored(id)).toBe(13);
  });

  it('a call refused for what it holds costs the tenant nothing of its limit', async () => {
    // A burst of 4 at one event a second: refused calls of 3 must leave all four tokens.
    const { id, key } = await tenant({ publishRate: 1, publishBurst: 4 });
    const unknownTopic = events(3, 'bad').map((e) => ({ event: { ...e.event, topic: 'nope' } }));
    for (let i = 0; i < 3; i += 1) expect(errorOf(await t.gql(PUBLISH, { inputs: unknownTopic }, key), 'BAD_USER_INPUT').extensions!.field).toMatch(/^inputs\[0\]\.event\.topic$/);
    await t.ok(PUBLISH, { inputs: events(4, 'whole') }, key);
    expect(await stored(id)).toBe(4);
  });

  it("one tenant's limit is its own: another tenant publishes meanwhile", async () => {
    const busy = await tenant({ publishRate: 1, publishBurst: 2 });
    const other = await tenant({});
    await t.ok(PUBLISH, { inputs: events(2, 'one') }, busy.key);
    errorOf(await t.gql(PUBLISH, { inputs: events(2, 'two') }, busy.key), 'RATE_LIMITED');
    await t.ok(PUBLISH, { inputs: events(3, 'free') }, other.key);
    expect(await stored(other.id)).toBe(3);
  });

  it('refuses a call that would create more deliveries than one call may (events × matching webhooks), storing nothing', async () => {
    const { id, key } = await tenant({});
    for (let i = 0; i < 3; i += 1) {
      await t.ok('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }', { input: { label: `w${i}`, events: ['order.created'], url: 'http://127.0.0.1:9/', active: false } }, key);
    }
    const webhooks = (await t.ok('{ webhooks { edges { node { id } } } }', {}, key)).webhooks.edges.map((e: any) => e.node.id);
    for (const webhookId of webhooks) await t.ok('mutation($id: ID!) { pauseWebhook(id: $id) { state } }', { id: webhookId }, key);
    // Paused webhooks keep what matches them: each event makes three deliveries.
    await t.ok(PUBLISH, { inputs: events(1, 'fits') }, key);
    const error = errorOf(await t.gql(PUBLISH, { inputs: events(2, 'many') }, key), 'BAD_USER_INPUT');
    expect(error.extensions!.field).toBe('inputs');
    expect(error.message).toContain('would create 6 deliveries');
    expect(error.message).toContain('HERALD_MAX_DELIVERIES_PER_CALL');
    expect(await stored(id)).toBe(1);
  });
});
