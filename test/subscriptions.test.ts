import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, OPERATOR_KEY, startTestApp, type TestApp } from './support/app.ts';
import { setUpTopics } from './support/fixtures.ts';
import { Receiver } from './support/receiver.ts';
import { ready, subscribe } from './support/ws.ts';

const INSTANCE_UPDATED = `subscription($w: ID, $s: [InstanceStatus!]) { instanceUpdated(webhookId: $w, statuses: $s) { id status attempts lastStatusCode lastMessage nextAttemptAt updatedAt webhook { id } } }`;

describe('live delivery status over graphql-ws', () => {
  let t: TestApp;
  let url: string;
  beforeAll(async () => {
    t = await startTestApp({ HERALD_OUTBOUND_ALLOW: '127.0.0.0/8', HERALD_MIN_BACKOFF_MS: '20' });
    url = (await t.app.start(0, '127.0.0.1')).url;
    await setUpTopics(t);
  });
  const hook = async (receiverUrl: string, extra: object = {}) =>
    (await t.ok('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }', {
      input: { label: 'live', events: ['user.created'], url: receiverUrl, active: true, backoffBaseMs: 20, backoffCapMs: 50, ...extra },
    })).createWebhook.webhook.id as string;
  const publish = (entityId: string, topic = 'user') => t.ok(`mutation { publishEvent(input: { event: { topic: "${topic}", action: "created", entityId: "${entityId}", data: {} } }) { event { id } } }`);

  it('a subscriber sees PENDING → SENDING → COMPLETED for a delivery', async () => {
    const receiver = await Receiver.start(() => ({ status: 200, body: 'fine' }));
    const webhookId = await hook(receiver.url);
    const sub = subscribe(url, ADMIN_KEY, INSTANCE_UPDATED, { w: webhookId });
    await ready(sub);
    await publish('ok1');
    const values = await sub.waitFor(3);
    expect(values.map((v: any) => v.instanceUpdated.status)).toEqual(['PENDING', 'SENDING', 'COMPLETED']);
    expect(values[2]).toMatchObject({ instanceUpdated: { attempts: 1, lastStatusCode: 200, lastMessage: '200 fine', webhook: { id: webhookId } } });
    await sub.client.dispose();
  });

  it('and RETRYING (with the next attempt time) → FAILED for a failing one; statuses filter what it gets', async () => {
    const receiver = await Receiver.start(() => ({ status: 500, body: 'nope' }));
    const webhookId = await hook(receiver.url, { maxAttempts: 2 });
    const all = subscribe(url, ADMIN_KEY, INSTANCE_UPDATED, { w: webhookId });
    const some = subscribe(url, ADMIN_KEY, INSTANCE_UPDATED, { w: webhookId, s: ['RETRYING', 'FAILED'] });
    await Promise.all([ready(all), ready(some)]);
    await publish('bad1');
    const values = await all.waitFor(5);
    expect(values.map((v: any) => v.instanceUpdated.status)).toEqual(['PENDING', 'SENDING', 'RETRYING', 'SENDING', 'FAILED']);
    const retrying = (values[2] as any).instanceUpdated;
    expect(new Date(retrying.nextAttemptAt).getTime()).toBeGreaterThan(new Date(retrying.updatedAt).getTime() - 1000);
    expect((values[4] as any).instanceUpdated.nextAttemptAt).toBeNull();
    const filtered = await some.waitFor(2);
    expect(filtered.map((v: any) => v.instanceUpdated.status)).toEqual(['RETRYING', 'FAILED']);
    expect(filtered[1]).toMatchObject({ instanceUpdated: { attempts: 2, lastMessage: '500 nope' } });
    await Promise.all([all.client.dispose(), some.client.dispose()]);
  });

  it('works over server-sent events too', async () => {
    const receiver = await Receiver.start();
    const webhookId = await hook(receiver.url);
    const controller = new AbortController();
    const response = await fetch(url, {
      method: 'POST',
      signal: controller.signal,
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${ADMIN_KEY}` },
      body: JSON.stringify({ query: INSTANCE_UPDATED, variables: { w: webhookId } }),
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    await new Promise((r) => setTimeout(r, 200));
    await publish('sse1');
    let text = '';
    const deadline = Date.now() + 10_000;
    while (!text.includes('COMPLETED') && Date.now() < deadline) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    const statuses = [...text.matchAll(/"status":"(\w+)"/g)].map((m) => m[1]);
    expect(statuses).toEqual(['PENDING', 'SENDING', 'COMPLETED']);
  });

  it('webhookUpdated tells of an automatic deactivation, with its reason', async () => {
    const receiver = await Receiver.start(() => ({ status: 410 }));
    const webhookId = await hook(receiver.url, { events: ['user.deleted'] });
    const sub = subscribe(url, ADMIN_KEY, 'subscription($id: ID) { webhookUpdated(id: $id) { id active deactivatedReason } }', { id: webhookId });
    await ready(sub);
    await t.ok('mutation { publishEvent(input: { event: { topic: "user", action: "deleted", entityId: "x" } }) { event { id } } }');
    const [value] = await sub.waitFor(1);
    expect(value).toMatchObject({ webhookUpdated: { id: webhookId, active: false, deactivatedReason: expect.stringContaining('410 Gone') } });
    await sub.client.dispose();
  });

  it('eventPublished streams events of the topics asked for', async () => {
    const sub = subscribe(url, ADMIN_KEY, 'subscription { eventPublished(topics: ["enrollment"]) { topic entityId } }');
    await ready(sub);
    await publish('u-ignored');
    await t.ok('mutation { publishEvent(input: { event: { topic: "enrollment", action: "completed", entityId: "e9", data: {} } }) { event { id } } }');
    expect(await sub.waitFor(1)).toEqual([{ eventPublished: { topic: 'enrollment', entityId: 'e9' } }]);
    await new Promise((r) => setTimeout(r, 200));
    expect(sub.values).toHaveLength(1);
    await sub.client.dispose();
  });

  describe('security', () => {
    let otherKey: string;
    beforeAll(async () => {
      otherKey = (await t.ok('mutation { createTenant(input: { name: "B", environment: SANDBOX }) { key } }', {}, OPERATOR_KEY)).createTenant.key;
    });

    it("a subscriber never receives another tenant's changes, whatever ids it passes", async () => {
      const receiver = await Receiver.start();
      const webhookId = await hook(receiver.url);
      const everything = subscribe(url, otherKey, INSTANCE_UPDATED);
      const theirs = subscribe(url, otherKey, INSTANCE_UPDATED, { w: webhookId });
      await Promise.all([ready(everything), ready(theirs)]);
      const mine = subscribe(url, ADMIN_KEY, INSTANCE_UPDATED, { w: webhookId });
      await ready(mine);
      await publish('iso');
      await mine.waitFor(3);
      await new Promise((r) => setTimeout(r, 300));
      expect(everything.values).toEqual([]);
      expect(theirs.values).toHaveLength(1);
      expect((theirs.values[0] as any).errors[0]).toMatchObject({ message: expect.stringMatching(/^webhook ".*" was not found$/), extensions: { code: 'NOT_FOUND' } });
      await Promise.all([everything.client.dispose(), theirs.client.dispose(), mine.client.dispose()]);
    });

    it("a revoked key's open subscriptions end", async () => {
      const { key, apiKey } = (await t.ok('mutation { createApiKey(input: { name: "dash", role: VIEWER }) { key apiKey { id } } }')).createApiKey;
      const sub = subscribe(url, key, INSTANCE_UPDATED);
      await ready(sub);
      await t.ok('mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: apiKey.id });
      const ended = (await Promise.race([sub.ended, new Promise((r) => setTimeout(() => r('still open'), 5000))])) as { code?: number };
      expect(ended.code).toBe(4403);
      await sub.client.dispose();
    });
  });

  it('listening resumes after the database connection is lost', async () => {
    const receiver = await Receiver.start();
    const webhookId = await hook(receiver.url);
    const sub = subscribe(url, ADMIN_KEY, INSTANCE_UPDATED, { w: webhookId, s: ['COMPLETED'] });
    await ready(sub);
    const admin = new pg.Client({ connectionString: t.databaseUrl });
    await admin.connect();
    const killed = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'herald-changes' AND datname = current_database()`);
    await admin.end();
    expect(killed.rowCount).toBe(1);
    await new Promise((r) => setTimeout(r, 500));
    await publish('after-reconnect');
    const [value] = await sub.waitFor(1);
    expect(value).toMatchObject({ instanceUpdated: { status: 'COMPLETED' } });
    await sub.client.dispose();
  });

  it('a client that reconnects catches up with instances(filter: { updatedSince })', async () => {
    const receiver = await Receiver.start();
    const webhookId = await hook(receiver.url);
    await publish('before');
    await receiver.waitFor(1);
    await new Promise((r) => setTimeout(r, 300));
    const since = new Date().toISOString();
    await publish('missed');
    await receiver.waitFor(2);
    await new Promise((r) => setTimeout(r, 300));
    const caught = await t.ok('query($w: ID!, $since: DateTime!) { instances(filter: { webhookId: $w, updatedSince: $since }) { edges { node { entityId status } } } }', { w: webhookId, since });
    expect(caught.instances.edges.map((e: any) => e.node)).toEqual([{ entityId: 'missed', status: 'COMPLETED' }]);
  });

  it('measures the delay from a status change to the subscriber (printed, not asserted)', async () => {
    const receiver = await Receiver.start();
    const webhookId = await hook(receiver.url);
    const sub = subscribe(url, ADMIN_KEY, INSTANCE_UPDATED, { w: webhookId, s: ['COMPLETED'] });
    await ready(sub);
    const delays: number[] = [];
    const n = 100;
    const seen = new Set<number>();
    for (let i = 0; i < n; i += 1) {
      await publish(`lat${i}`);
      await sub.waitFor(i + 1);
      const v = sub.values[i] as any;
      if (!seen.has(i)) delays.push(Date.now() - new Date(v.instanceUpdated.updatedAt).getTime());
      seen.add(i);
    }
    delays.sort((a, b) => a - b);
    console.info(`subscription delay, COMPLETED written → subscriber (${n} deliveries): p50 ${delays[Math.floor(n * 0.5)]} ms, p99 ${delays[Math.floor(n * 0.99)]} ms, max ${delays.at(-1)} ms`);
    expect(delays).toHaveLength(n);
    await sub.client.dispose();
  }, 60_000);
});
