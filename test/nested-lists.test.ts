import { beforeAll, describe, expect, it } from 'vitest';
import { errorOf, startTestApp, type TestApp } from './support/app.ts';
import { setUpTopics } from './support/fixtures.ts';
import { eventually, Receiver } from './support/receiver.ts';

const CREATE_KEY = `mutation($role: Role!) { createApiKey(input: { name: "reader", role: $role }) { key } }`;

describe("nested lists are estimated by what they hold, and counted while they load", () => {
  let t: TestApp;
  let viewer: string;
  beforeAll(async () => {
    // The receiver fails on purpose: its circuit must not open.
    t = await startTestApp({ HERALD_OUTBOUND_ALLOW: '127.0.0.0/8', HERALD_MIN_BACKOFF_MS: '20', HERALD_BREAKER_FAILURES: '1000' });
    await setUpTopics(t);
    viewer = (await t.ok(CREATE_KEY, { role: 'VIEWER' })).createApiKey.key;
  });
  const hook = async (input: object) =>
    (await t.ok('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }', { input: { events: ['user.created'], active: true, ...input } })).createWebhook.webhook.id as string;
  const completed = async (webhookId: string) =>
    (await t.ok('query($w: ID!) { webhook(id: $w) { stats { byStatus { status count } } } }', { w: webhookId })).webhook.stats.byStatus.find((s: any) => s.status === 'COMPLETED').count;

  it("admits an integrator's read of 50 deliveries, each with its events and its whole attempt log", async () => {
    // Every delivery fails twice, then is taken: three attempts each.
    const tries = new Map<string, number>();
    const receiver = await Receiver.start((req) => {
      const id = req.headers['webhook-id'] as string;
      tries.set(id, (tries.get(id) ?? 0) + 1);
      return { status: tries.get(id)! <= 2 ? 500 : 200, body: tries.get(id)! <= 2 ? 'not yet' : 'ok' };
    });
    const webhookId = await hook({ label: 'flaky', url: receiver.url, retryScheduleMs: [20, 20] });
    await t.ok('mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { event { id } } }', {
      inputs: Array.from({ length: 50 }, (_, i) => ({ event: { topic: 'user', action: 'created', entityId: `f${i}`, data: {} } })),
    });
    await eventually(async () => ((await completed(webhookId)) === 50 ? true : undefined), 25_000, 'fifty deliveries completed');

    const read = await t.gql(
      `query($w: ID!) { instances(first: 50, filter: { webhookId: $w }) { edges { node { id events { id } attemptLog { number trigger statusCode message responseBody errorKind } } } } }`,
      { w: webhookId },
      viewer,
    );
    expect(read.errors).toBeUndefined();
    const nodes = read.data.instances.edges.map((e: any) => e.node);
    expect(nodes).toHaveLength(50);
    for (const node of nodes) {
      expect(node.events).toHaveLength(1);
      expect(node.attemptLog.map((a: any) => [a.number, a.trigger, a.statusCode, a.responseBody])).toEqual([[1, 'AUTO', 500, 'not yet'], [2, 'AUTO', 500, 'not yet'], [3, 'AUTO', 200, 'ok']]);
    }
    // The worst nested query stays refused (the first describe), and so does asking each log for its maximum.
    const most = await t.gql(`query($w: ID!) { instances(first: 50, filter: { webhookId: $w }) { edges { node { attemptLog(first: 1000) { number responseBody } } } } }`, { w: webhookId }, viewer);
    expect(errorOf(most, 'BAD_USER_INPUT').message).toMatch(/^this query would cost \d+, over the limit of 50000/);
  });
});
