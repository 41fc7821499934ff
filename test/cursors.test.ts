import { beforeAll, describe, expect, it } from 'vitest';
import { getNamedType, isObjectType, type GraphQLObjectType } from 'graphql';
import { schema } from '../src/graphql/schema/index.ts';
import { ADMIN_KEY, errorOf, OPERATOR_KEY, startTestApp, type TestApp } from './support/app.ts';

/** A cursor as Herald writes them, for any id. */
const cursorFor = (id: string) => Buffer.from(`GPC:S:${id}`).toString('base64');
/** An id next to `id` that names no record: it bounds a page exactly where `id` does. */
const neighbour = (id: string) => `${id.slice(0, -1)}${id.endsWith('0') ? '1' : '0'}`;

/** A connection of the API and how to ask for a page of it. */
interface Connection {
  name: string;
  /** An operation whose one connection takes the variables first, after, last, before. */
  query: string;
  /** The connection in the answer. */
  pick: (data: any) => { edges: Array<{ node: { id: string } }>; pageInfo: unknown };
  order: 'asc' | 'desc';
  key: string;
}

describe("a cursor naming another tenant's record, in both directions on every connection", () => {
  let t: TestApp;
  let other: string;
  /** What each connection holds: the first tenant's ids, and one id of the other tenant's that lies among them. */
  const mine: Record<string, string[]> = {};
  const theirs: Record<string, string> = {};
  let myInbox: { id: string; url: string };

  const page = `first: $first, after: $after, last: $last, before: $before`;
  const vars = '($first: Int, $after: String, $last: Int, $before: String)';
  const list = (field: string, extra = '') => `query${vars} { ${field}(${page}${extra}) { edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;
  const connections: Connection[] = [
    { name: 'webhooks', query: list('webhooks'), pick: (d) => d.webhooks, order: 'desc', key: ADMIN_KEY },
    { name: 'topics', query: list('topics'), pick: (d) => d.topics, order: 'asc', key: ADMIN_KEY },
    { name: 'apiKeys', query: list('apiKeys', ', includeRevoked: true'), pick: (d) => d.apiKeys, order: 'desc', key: ADMIN_KEY },
    { name: 'events', query: list('events'), pick: (d) => d.events, order: 'desc', key: ADMIN_KEY },
    { name: 'instances', query: list('instances'), pick: (d) => d.instances, order: 'desc', key: ADMIN_KEY },
    { name: 'inboxes', query: list('inboxes'), pick: (d) => d.inboxes, order: 'desc', key: ADMIN_KEY },
    {
      name: 'inbox.requests',
      query: `query${vars.replace('(', '($inbox: ID!, ')} { inbox(id: $inbox) { requests(${page}) { edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }`,
      pick: (d) => d.inbox.requests,
      order: 'desc',
      key: ADMIN_KEY,
    },
    { name: 'tenants', query: list('tenants'), pick: (d) => d.tenants, order: 'asc', key: OPERATOR_KEY },
  ];

  const ask = async (c: Connection, variables: Record<string, unknown>) =>
    c.pick(await t.ok(c.query, { ...variables, ...(c.name === 'inbox.requests' ? { inbox: myInbox.id } : {}) }, c.key));
  const ids = (p: { edges: Array<{ node: { id: string } }> }) => p.edges.map((e) => e.node.id);

  beforeAll(async () => {
    t = await startTestApp({ HERALD_OUTBOUND_ALLOW: '127.0.0.0/8' });
    await t.app.start(0, '127.0.0.1'); // inboxes capture over HTTP
    other = (await t.ok('mutation { createTenant(input: { name: "Other", environment: SANDBOX }) { key } }', {}, OPERATOR_KEY)).createTenant.key;
    for (const key of [ADMIN_KEY, other]) {
      await t.ok('mutation { createTopic(input: { key: "user", name: "User" }) { id } }', {}, key);
      await t.ok('mutation { createWebhook(input: { label: "w", events: ["user.created"], url: "http://127.0.0.1:9/", active: true }) { webhook { id } } }', {}, key);
    }
    myInbox = (await t.ok('mutation { createInbox(input: { name: "mine" }) { id url } }')).createInbox;
    const theirInbox = (await t.ok('mutation { createInbox(input: { name: "theirs" }) { id url } }', {}, other)).createInbox;
    // Each kind of record made three times by the first tenant with the other's in the middle, so
    // that the other's id lies between two of the first tenant's. Each maker answers the id it made.
    const newest = async (c: string, key: string) => ids(connections.find((x) => x.name === c)!.pick(await t.ok(connections.find((x) => x.name === c)!.query, { first: 1, inbox: theirInbox.id }, key)))[0]!;
    const makers: Record<string, (key: string, n: number) => Promise<string>> = {
      webhooks: async (key, n) => (await t.ok(`mutation { createWebhook(input: { label: "w${n}", events: ["user.created"], url: "http://127.0.0.1:9/" }) { webhook { id } } }`, {}, key)).createWebhook.webhook.id,
      topics: async (key, n) => (await t.ok(`mutation { createTopic(input: { key: "t${n}", name: "T" }) { id } }`, {}, key)).createTopic.id,
      apiKeys: async (key, n) => (await t.ok(`mutation { createApiKey(input: { name: "k${n}", role: VIEWER }) { apiKey { id } } }`, {}, key)).createApiKey.apiKey.id,
      events: async (key, n) => (await t.ok(`mutation { publishEvent(input: { event: { topic: "user", action: "created", entityId: "${n}", data: {} } }) { event { id } } }`, {}, key)).publishEvent.event.id,
      instances: async (key, n) => {
        await t.ok(`mutation { publishEvent(input: { event: { topic: "user", action: "created", entityId: "i${n}", data: {} } }) { event { id } } }`, {}, key);
        return newest('instances', key);
      },
      inboxes: async (key, n) => (await t.ok(`mutation { createInbox(input: { name: "i${n}" }) { id } }`, {}, key)).createInbox.id,
      'inbox.requests': async (key, n) => {
        expect((await fetch(key === other ? theirInbox.url : myInbox.url, { method: 'POST', body: `request ${n}` })).status).toBe(200);
        return key === other ? newest('inbox.requests', other) : '';
      },
      tenants: async (_key, n) => (await t.ok(`mutation { createTenant(input: { name: "T${n}", environment: SANDBOX }) { tenant { id } } }`, {}, OPERATOR_KEY)).createTenant.tenant.id,
    };
    for (const [name, make] of Object.entries(makers)) {
      await make(ADMIN_KEY, 1);
      await make(ADMIN_KEY, 2);
      theirs[name] = await make(other, 3);
      await make(ADMIN_KEY, 4);
    }
    for (const c of connections) mine[c.name] = ids(await ask(c, { first: 100 }));
  });

  it.each(connections.map((c) => [c.name, c] as const))('%s: after/first and before/last page by the cursor\'s value alone; a record of another tenant and no record answer alike', async (_name, c) => {
    const id = theirs[c.name]!;
    const own = mine[c.name]!;
    // The other tenant's record lies among this tenant's, with some of them on each side.
    const later = own.filter((o) => (c.order === 'desc' ? o < id : o > id));
    const earlier = own.filter((o) => (c.order === 'desc' ? o > id : o < id));
    // (Tenants, which only the operator lists, have no other tenant's records: the cursor is the operator's own.)
    if (c.name !== 'tenants') expect(own).not.toContain(id);
    expect(later.length, 'records after it').toBeGreaterThan(0);
    expect(earlier.length, 'records before it').toBeGreaterThan(0);
    for (const [direction, size] of [['after', 'first'], ['before', 'last']] as const) {
      const named = await ask(c, { [size]: 5, [direction]: cursorFor(id) });
      expect(ids(named), direction).toEqual(direction === 'after' ? later.slice(0, 5) : earlier.slice(-5));
      if (c.name === 'tenants') continue;
      const nobody = await ask(c, { [size]: 5, [direction]: cursorFor(neighbour(id)) });
      expect(nobody, `${direction}: the same answer, pageInfo too`).toEqual(named);
    }
  });

  it('covers every connection of the schema', () => {
    const fields = Object.values(schema.getTypeMap())
      .filter((type) => isObjectType(type) && !type.name.startsWith('__'))
      .flatMap((type) => Object.values((type as GraphQLObjectType).getFields()).filter((f) => getNamedType(f.type).name.endsWith('Connection')).map((f) => `${type.name}.${f.name}`));
    expect(fields.sort()).toEqual(connections.map((c) => (c.name.includes('.') ? c.name.replace(/^inbox/, 'Inbox') : `Query.${c.name}`)).sort());
  });

  it("a cursor that is not one of Herald's is BAD_USER_INPUT naming the argument it was given in", async () => {
    const webhooks = connections[0]!;
    for (const [direction, size] of [['after', 'first'], ['before', 'last']] as const) {
      for (const cursor of [cursorFor('not-a-uuid'), 'garbage']) {
        const error = errorOf(await t.gql(webhooks.query, { [size]: 5, [direction]: cursor }), 'BAD_USER_INPUT');
        expect(error.extensions!.field, `${direction} ${cursor}`).toBe(direction);
      }
    }
  });
});
