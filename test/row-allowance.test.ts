import { beforeAll, describe, expect, it } from 'vitest';
import { errorOf, startTestApp, type TestApp } from './support/app.ts';
import { setUpTopics } from './support/fixtures.ts';
import { Receiver } from './support/receiver.ts';

const CREATE_KEY = `mutation($role: Role!) { createApiKey(input: { name: "reader", role: $role }) { key } }`;

describe('what lists hold beyond their estimate is counted as they load, against HERALD_MAX_QUERY_COST rows', () => {
  let t: TestApp;
  let viewer: string;
  let webhookId: string;
  const QUERY = (first: number, events = '') => `query($w: ID!) { instances(first: ${first}, filter: { webhookId: $w }) { edges { node { events${events} { id } } } } }`;
  beforeAll(async () => {
    t = await startTestApp({ HERALD_OUTBOUND_ALLOW: '127.0.0.0/8', HERALD_MAX_QUERY_COST: '100' });
    await setUpTopics(t);
    viewer = (await t.ok(CREATE_KEY, { role: 'VIEWER' })).createApiKey.key;
    const receiver = await Receiver.start();
    // Four deliveries of 40 events each (a batch is sent as soon as it holds 40).
    webhookId = (await t.ok('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }', {
      input: { label: 'batches', events: ['user.created'], url: receiver.url, active: true, batchWindowMs: 60_000, batchMaxSize: 40 },
    })).createWebhook.webhook.id;
    for (let call = 0; call < 8; call++) {
      await t.ok('mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { event { id } } }', {
        inputs: Array.from({ length: 20 }, (_, i) => ({ event: { topic: 'user', action: 'created', entityId: `b${call}-${i}`, data: {} } })),
      });
    }
    await receiver.waitFor(4, 30_000);
  });

  it('four deliveries of 40 events each hold 156 rows more than estimated: refused, naming the list, having loaded at most the allowance', async () => {
    const error = errorOf(await t.gql(QUERY(10), { w: webhookId }, viewer), 'BAD_USER_INPUT');
    expect(error.extensions!.field).toBe('query');
    expect(error.message).toMatch(/^this query's lists hold more than its estimate counted, by over 100 rows \(HERALD_MAX_QUERY_COST\), in Instance\.events/);
  });

  it('two of them (78 rows more) are within the allowance and come whole; `first` asks for and pays for what it wants', async () => {
    const two = await t.ok(QUERY(2), { w: webhookId }, viewer);
    expect(two.instances.edges.map((e: any) => e.node.events.length)).toEqual([40, 40]);
    const few = await t.ok(QUERY(10, '(first: 5)'), { w: webhookId }, viewer);
    expect(few.instances.edges.map((e: any) => e.node.events.length)).toEqual([5, 5, 5, 5]);
  });
});
