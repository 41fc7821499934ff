import { getNamedType, isObjectType, isNonNullType, type GraphQLObjectType } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../src/graphql/schema/index.ts';
import { ADMIN_KEY, startTestApp, type TestApp } from './support/app.ts';
import { setUpTopics } from './support/fixtures.ts';
import { eventually } from './support/receiver.ts';

type Seen = Map<string, 'readable' | 'forbidden'>;

/**
 * Walks every field reachable from a root field, one field per request (a refused
 * non-null field would null its parent and hide its neighbours), and says for each
 * `Type.field` whether this key read it or was refused. Fields with required
 * arguments are left out; each type's fields are tried once.
 */
async function walk(t: TestApp, key: string, root: { text: (selection: string) => string; variables?: () => Record<string, unknown>; type: string }, maxDepth = 4): Promise<Seen> {
  const seen: Seen = new Map();
  const queue: Array<{ path: string[]; calls: string[]; type: GraphQLObjectType }> = [{ path: [], calls: [], type: schema.getType(root.type) as GraphQLObjectType }];
  while (queue.length > 0) {
    const { path, calls, type } = queue.shift()!;
    for (const field of Object.values(type.getFields())) {
      const id = `${type.name}.${field.name}`;
      if (seen.has(id) || field.args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined)) continue;
      const named = getNamedType(field.type);
      const call = field.args.some((a) => a.name === 'first') ? `${field.name}(first: 1)` : field.name;
      const leaf = isObjectType(named) ? `${call} { __typename }` : call;
      const selection = calls.reduceRight((inner, step) => `${step} { ${inner} }`, leaf);
      const result = await t.gql(root.text(selection), root.variables?.(), key);
      const refused = result.errors?.filter((e) => e.path?.at(-1) === field.name && e.extensions?.code === 'FORBIDDEN') ?? [];
      const other = result.errors?.filter((e) => !refused.includes(e)) ?? [];
      if (other.length) throw new Error(`${id}: ${JSON.stringify(other)}`);
      if (refused.length) seen.set(id, 'forbidden');
      else if (reached(result.data, [...rootPath(root.text('x')), ...path, field.name])) {
        seen.set(id, 'readable');
        if (isObjectType(named) && path.length < maxDepth) queue.push({ path: [...path, field.name], calls: [...calls, call], type: named });
      }
    }
  }
  return seen;
}

/** The response keys of the root field a query text starts with. */
function rootPath(text: string): string[] {
  return [/\{\s*(\w+)/.exec(text)![1]!];
}

function reached(data: unknown, path: string[]): boolean {
  let current: unknown = data;
  for (const step of path) {
    if (Array.isArray(current)) current = current[0];
    if (current === null || typeof current !== 'object' || !(step in current)) return false;
    current = (current as Record<string, unknown>)[step];
  }
  return true;
}

const readable = (seen: Seen) => [...seen].filter(([, v]) => v === 'readable').map(([k]) => k).sort();
const refused = (seen: Seen) => [...seen].filter(([, v]) => v === 'forbidden').map(([k]) => k).sort();

describe('authorization applies to every type and field, however it is reached', () => {
  let t: TestApp;
  const keys: Record<string, string> = {};
  let n = 0;
  beforeAll(async () => {
    t = await startTestApp();
    await t.app.start(0, '127.0.0.1');
    await setUpTopics(t);
    for (const role of ['PUBLISHER', 'VIEWER', 'DEVELOPER']) keys[role] = (await t.ok('mutation($r: Role!) { createApiKey(input: { name: "k", role: $r }) { key } }', { r: role })).createApiKey.key;
    const inbox = (await t.ok('mutation { createInbox(input: { name: "walk" }) { id url } }')).createInbox;
    await t.ok('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }', {
      input: {
        label: 'HR', events: ['delegate.created'], url: inbox.url, active: true, payloadMode: 'FULL',
        headers: [{ name: 'Authorization', value: 'Bearer receiver-secret' }],
        conditions: [{ group: { match: 'ANY', conditions: [{ rule: { path: 'data.type', operator: 'EQUALS', values: ['Delegate'] } }] } }],
      },
    });
    await t.ok('mutation { publishEvent(input: { event: { topic: "delegate", action: "created", entityId: "0", data: { type: "Delegate" } } }) { event { id } } }');
    await eventually(async () => (await t.ok('{ instances(first: 1, filter: { statuses: [COMPLETED] }) { edges { node { id } } } }')).instances.edges.length > 0);
  });

  it('a PUBLISHER sees in what publishing answers only ids, statuses and the event it sent; never webhook configuration', async () => {
    const seen = await walk(t, keys.PUBLISHER!, {
      type: 'PublishResult',
      text: (selection) => `mutation($i: PublishEventInput!) { publishEvent(input: $i) { ${selection} } }`,
      variables: () => ({ i: { event: { topic: 'delegate', action: 'created', entityId: `p${n++}`, data: { type: 'Delegate' } } } }),
    });
    expect(readable(seen)).toEqual([
      'Event.action', 'Event.createdAt', 'Event.entityId', 'Event.id', 'Event.idempotencyKey', 'Event.occurredAt', 'Event.topic', 'Event.type',
      'Instance.createdAt', 'Instance.entityId', 'Instance.event', 'Instance.id', 'Instance.status', 'Instance.webhook',
      'PublishResult.duplicate', 'PublishResult.event', 'PublishResult.instances',
      'Webhook.id', 'Webhook.label',
    ]);
    expect(refused(seen)).toEqual(expect.arrayContaining(['Webhook.url', 'Webhook.headers', 'Webhook.conditions', 'Webhook.stats', 'Instance.payload', 'Instance.request', 'Instance.attemptLog', 'Event.data', 'Event.instances']));
  });

  it.each(['VIEWER', 'DEVELOPER', 'ADMIN'])('%s: every type reachable from the read fields is readable, and nothing refuses it there', async (role) => {
    const roots: Array<[string, string]> = [
      ['webhooks', 'QueryWebhooksConnection'], ['instances', 'QueryInstancesConnection'], ['events', 'QueryEventsConnection'],
      ['topics', 'QueryTopicsConnection'], ['inboxes', 'QueryInboxesConnection'], ...(role === 'ADMIN' ? [['apiKeys', 'QueryApiKeysConnection'] as [string, string]] : []),
    ];
    const all: Seen = new Map();
    for (const [field, type] of roots) {
      const seen = await walk(t, role === 'ADMIN' ? ADMIN_KEY : keys[role]!, { type, text: (selection) => `{ ${field}(first: 1) { ${selection} } }` }, 5);
      for (const [k, v] of seen) all.set(k, v);
    }
    expect(refused(all)).toEqual([]);
    for (const type of ['Webhook', 'Condition', 'WebhookHeader', 'WebhookStats', 'Instance', 'Attempt', 'Event', 'Topic', 'TopicField', 'Inbox', 'InboxRequest', ...(role === 'ADMIN' ? ['ApiKey'] : [])]) {
      expect(readable(all).some((f) => f.startsWith(`${type}.`)), type).toBe(true);
    }
  });
});
