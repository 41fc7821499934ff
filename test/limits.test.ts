import { beforeAll, describe, expect, it } from 'vitest';
import { errorOf, startTestApp, type TestApp } from './support/app.ts';
import { setUpTopics } from './support/fixtures.ts';

const CREATE_KEY = `mutation($role: Role!) { createApiKey(input: { name: "reader", role: $role }) { key } }`;
/** The issue's query: every instance's event's instances' event's instances…, as deep as the depth limit allows. */
const nested = (first: string) => `{ instances(first: ${first}) { edges { node { id event { id instances { id event { id instances { id event { id instances { id } } } } } } } } } }`;

describe('a query cannot fan out without bound', () => {
  let t: TestApp;
  let viewer: string;
  beforeAll(async () => {
    // No receiver is reachable: the 54 instances stay stored, which is all this needs.
    t = await startTestApp();
    await setUpTopics(t);
    viewer = (await t.ok(CREATE_KEY, { role: 'VIEWER' })).createApiKey.key;
    for (let w = 0; w < 6; w++) {
      await t.ok('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }', {
        input: { label: `fan ${w}`, events: ['user.created'], url: `https://receiver-${w}.example/hook`, active: true },
      });
    }
    const inputs = Array.from({ length: 9 }, (_, i) => ({ event: { topic: 'user', action: 'created', entityId: `u${i}`, data: {} } }));
    const published = (await t.ok('mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { instances { id } } }', { inputs })).publishEvents;
    expect(published.flatMap((p: any) => p.instances)).toHaveLength(54);
  });

  it("refuses the worst nested query a VIEWER can write, saying what it costs, and keeps answering", async () => {
    const error = errorOf(await t.gql(nested('100'), {}, viewer), 'BAD_USER_INPUT');
    expect(error.extensions!.field).toBe('query');
    expect(error.extensions!.cost).toBeGreaterThan(error.extensions!.maxCost);
    expect(error.message).toMatch(/^this query would cost \d+, over the limit of 50000 \(HERALD_MAX_QUERY_COST\)/);
    expect((await t.ok('{ viewer { role } }', {}, viewer)).viewer.role).toBe('VIEWER');
  });

  it('weighs `first` given through a variable as given inline', async () => {
    const query = nested('$n').replace('{ instances', 'query($n: Int) { instances');
    errorOf(await t.gql(query, { n: 100 }, viewer), 'BAD_USER_INPUT');
    const small = (await t.gql(query.replaceAll('instances {', 'instances(first: 2) {'), { n: 2 }, viewer));
    expect(small.errors).toBeUndefined();
    const node = small.data.instances.edges[0].node;
    expect(node.event.instances).toHaveLength(2);
    expect(node.event.instances[0].event.instances).toHaveLength(2);
  });

  it("an event's instances are capped at 100 whatever `first` asks, and page through instances(filter: { eventId })", async () => {
    const event = (await t.ok('{ events(first: 1) { edges { node { id instances(first: 100000) { id } } } } }', {}, viewer)).events.edges[0].node;
    expect(event.instances).toHaveLength(6);
    const page = (await t.ok('query($e: ID) { instances(first: 4, filter: { eventId: $e }) { edges { node { id } } pageInfo { hasNextPage } } }', { e: event.id }, viewer)).instances;
    expect(page.edges).toHaveLength(4);
    expect(page.pageInfo.hasNextPage).toBe(true);
  });

  it("the dashboard's heaviest reads stay within the limit", async () => {
    const list = await t.gql('{ webhooks(first: 200) { edges { node { id label description url events active deactivatedReason stats { successRate lastDeliveryAt total } } } } }', {}, viewer);
    expect(list.errors).toBeUndefined();
    const id = list.data.webhooks.edges[0].node.id;
    const form = await t.gql(`query($id: ID!) { webhook(id: $id) { id headers { name value secret }
      conditions { ...C children { ...C children { ...C children { ...C children { ...C } } } } } } }
      fragment C on Condition { id kind match operator path values }`, { id }, viewer);
    expect(form.errors).toBeUndefined();
  });
});
