import { Webhook as StandardWebhook } from 'standardwebhooks';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorOf, OPERATOR_KEY, startTestApp, type TestApp } from './support/app.ts';
import { runSql } from './support/database.ts';
import { eventually, Receiver, type Received } from './support/receiver.ts';

/** A Slack-shaped message, as the dashboard's "alert me" preset makes it. */
const SLACK = '{"text": "Herald: {{ event.action }} for {{ data.webhookLabel }}{% if data.reason %}: {{ data.reason }}{% endif %}"}';

describe("Herald's own happenings, as events of its built-in topic", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ HERALD_OUTBOUND_ALLOW: '127.0.0.0/8,::1/128', HERALD_MIN_BACKOFF_MS: '20', HERALD_DEACTIVATE_AFTER_FAILURES: '4' });
    await t.ok('mutation { createTopic(input: { key: "order", name: "Order" }) { key } }');
  });

  const create = async (input: object) =>
    (await t.ok('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { id } } }', { input: { active: true, ...input } })).createWebhook;
  const publish = (entityIds: string[]) =>
    t.ok('mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { instances { id } } }', {
      inputs: entityIds.map((entityId) => ({ event: { topic: 'order', action: 'created', entityId, data: {} } })),
    });
  const heraldEvents = async () =>
    (await runSql(t.databaseUrl, `SELECT action, entity_id, data FROM event WHERE topic = 'herald' ORDER BY id`, [])) as Array<{ action: string; entity_id: string; data: any }>;
  const bodies = (receiver: Receiver) => receiver.received.map((r: Received) => JSON.parse(r.body));

  it('every tenant has the topic, read-only, and only Herald publishes it', async () => {
    const { topic } = await t.ok('{ topic(key: "herald") { key builtIn actions fields { path mergeTag } } }');
    expect(topic).toMatchObject({ key: 'herald', builtIn: true });
    expect(topic.actions).toEqual(['webhook_deactivated', 'webhook_failing', 'webhook_recovered', 'instance_failed', 'webhook_paused', 'webhook_resumed']);
    expect(topic.fields.map((f: any) => f.path)).toContain('webhookLabel');
    const tenant = await t.ok('mutation { createTenant(input: { name: "other", environment: SANDBOX }) { key } }', {}, OPERATOR_KEY);
    expect((await t.ok('{ topic(key: "herald") { builtIn } }', {}, tenant.createTenant.key)).topic.builtIn).toBe(true);

    expect(errorOf(await t.gql('mutation { updateTopic(key: "herald", input: { name: "mine" }) { key } }'), 'CONFLICT').message).toMatch(/built in/);
    expect(errorOf(await t.gql('mutation { deleteTopic(key: "herald") { key } }'), 'CONFLICT').message).toMatch(/built in/);
    const reserved = errorOf(await t.gql('mutation { createTopic(input: { key: "herald", name: "x" }) { key } }'), 'BAD_USER_INPUT');
    expect(reserved.extensions?.field).toBe('input.key');
    const publish = errorOf(await t.gql('mutation { publishEvent(input: { event: { topic: "herald", action: "webhook_paused", entityId: "x", data: {} } }) { event { id } } }'), 'BAD_USER_INPUT');
    expect(publish.extensions?.field).toBe('input.event.topic');
    expect(publish.message).toMatch(/raised by Herald itself/);
  });

  it('a Slack-shaped webhook hears of a failing webhook, then of Herald pausing it; signed like every delivery', async () => {
    const slack = await Receiver.start();
    const alerts = await create({ label: 'alerts', events: ['herald.webhook_failing', 'herald.webhook_deactivated'], url: slack.url, payloadMode: 'CUSTOM', templateFormat: 'JSON', template: SLACK });
    const broken = await Receiver.start(() => ({ status: 500, body: 'down for maintenance' }));
    const { webhook } = await create({ label: 'Orders to ERP', events: ['order.created'], url: broken.url, maxAttempts: 1 });
    for (const id of ['o1', 'o2', 'o3', 'o4']) {
      await publish([id]);
      await broken.waitFor(['o1', 'o2', 'o3', 'o4'].indexOf(id) + 1);
    }
    await slack.waitFor(2);
    // Two events, two deliveries: they may arrive in either order (an ordered webhook would keep them in order).
    expect(bodies(slack).sort((a, b) => b.text.localeCompare(a.text))).toEqual([
      { text: 'Herald: webhook_failing for Orders to ERP: 2 deliveries in a row failed (the last: 500 down for maintenance); at 4 Herald pauses it' },
      { text: 'Herald: webhook_deactivated for Orders to ERP: 4 deliveries in a row failed (the last: 500 down for maintenance)' },
    ]);
    const signed = slack.received[0]!;
    expect(() => new StandardWebhook(alerts.secret).verify(signed.body, signed.headers as Record<string, string>)).not.toThrow();
    const events = await heraldEvents();
    const deactivated = events.find((e) => e.action === 'webhook_deactivated')!;
    expect(deactivated).toMatchObject({ entity_id: webhook.id, data: { webhookId: webhook.id, webhookLabel: 'Orders to ERP', state: 'PAUSED', consecutiveFailures: 4, url: broken.url } });
    // Every delivery that failed for good raised instance_failed, with what it carried (each published by its own job, maybe after the pause's).
    const failedOf = async () => (await heraldEvents()).filter((e) => e.action === 'instance_failed' && e.entity_id === webhook.id);
    await eventually(async () => (await failedOf()).length >= 4, 15_000, 'four instance_failed events');
    const failed = await failedOf();
    expect(failed).toHaveLength(4);
    expect(failed[0]!.data).toMatchObject({ eventType: 'order.created', attempts: 1, lastStatusCode: 500, lastMessage: '500 down for maintenance' });
    await t.ok('mutation($id: ID!) { setWebhookActive(id: $id, active: false) { id } }', { id: alerts.webhook.id });
    await t.ok('mutation($id: ID!) { setWebhookActive(id: $id, active: false) { id } }', { id: webhook.id });
  });

  it('recovered once a delivery succeeds after the failing alert; paused and resumed by a person', async () => {
    let healthy = false;
    const receiver = await Receiver.start(() => ({ status: healthy ? 200 : 503 }));
    const { webhook } = await create({ label: 'flaky', events: ['order.created'], url: receiver.url, maxAttempts: 1 });
    await publish(['f1']);
    await receiver.waitFor(1);
    await publish(['f2']);
    await receiver.waitFor(2);
    // f2's failure must be recorded before f3 can succeed: a receiver's answer is recorded after it is sent,
    // and an outcome recorded later counts later (f3's success first would leave nothing to recover from).
    const about = async () => (await heraldEvents()).filter((e) => e.entity_id === webhook.id).map((e) => e.action);
    await eventually(async () => (await about()).includes('webhook_failing'), 10_000, 'webhook_failing');
    healthy = true;
    await publish(['f3']);
    await eventually(async () => (await about()).includes('webhook_recovered'), 10_000, 'webhook_recovered');
    await t.ok('mutation($id: ID!) { pauseWebhook(id: $id) { state } }', { id: webhook.id });
    await t.ok('mutation($id: ID!) { resumeWebhook(id: $id) { state } }', { id: webhook.id });
    await eventually(async () => (await about()).includes('webhook_resumed'), 10_000, 'webhook_resumed');
    const told = await about();
    // f2's failure and webhook_failing are raised in one transaction: in either order.
    expect([...told.slice(0, 3)].sort()).toEqual(['instance_failed', 'instance_failed', 'webhook_failing']);
    expect(told.slice(3)).toEqual(['webhook_recovered', 'webhook_paused', 'webhook_resumed']);
    const paused = (await heraldEvents()).find((e) => e.entity_id === webhook.id && e.action === 'webhook_paused')!;
    expect(paused.data).toMatchObject({ reason: 'paused by a person', webhookLabel: 'flaky' });
    await t.ok('mutation($id: ID!) { setWebhookActive(id: $id, active: false) { id } }', { id: webhook.id });
  });

  it('cannot loop: an alert webhook whose own deliveries fail raises no instance_failed about them, and its own state changes once', async () => {
    const dead = await Receiver.start(() => ({ status: 500 }));
    const alerts = await create({ label: 'alerts to nowhere', events: ['herald.*'], url: dead.url, maxAttempts: 1 });
    const other = await create({ label: 'other', events: ['order.created'], url: 'https://receiver.example/' });
    const before = (await heraldEvents()).length;
    await t.ok('mutation($id: ID!) { pauseWebhook(id: $id) { state } }', { id: other.webhook.id });
    await dead.waitFor(1);
    await t.ok('mutation($id: ID!) { resumeWebhook(id: $id) { state } }', { id: other.webhook.id });
    await dead.waitFor(2);
    // Its second failure in a row is half the pause threshold: one webhook_failing about itself, which it fails too.
    await dead.waitFor(3);
    await new Promise((r) => setTimeout(r, 1500));
    const raised = (await heraldEvents()).slice(before);
    expect(raised.map((e) => [e.action, e.entity_id])).toEqual([
      ['webhook_paused', other.webhook.id],
      ['webhook_resumed', other.webhook.id],
      ['webhook_failing', alerts.webhook.id],
    ]);
    // No instance_failed about an alert webhook's deliveries, so nothing more: three alerts, three failed requests, and quiet.
    expect(dead.received).toHaveLength(3);
    await t.ok('mutation($id: ID!) { setWebhookActive(id: $id, active: false) { id } }', { id: alerts.webhook.id });
  });
});
