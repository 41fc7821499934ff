import { beforeAll, describe, expect, it } from 'vitest';
import { jsonProblems, nesting } from '../src/rules/values.ts';
import { ADMIN_KEY, errorOf, startTestApp, type GraphQLResult, type TestApp } from './support/app.ts';
import { setUpTopics } from './support/fixtures.ts';

const PUBLISH = `mutation($input: PublishEventInput!) { publishEvent(input: $input) { event { id } } }`;
const user = (extra: object) => ({ topic: 'user', action: 'created', entityId: '1', data: { name: 'Ada' }, ...extra });
const deep = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);

describe('JSON values, as plain functions', () => {
  it('finds NUL and lone surrogates in strings and keys, and numbers JSON would change', () => {
    const problems = jsonProblems(JSON.parse('{"ok":"fine","n\\u0000":1,"s":"a\\ud800","big":1e400,"long":12345678901234567890,"list":[1,"\\u0000"]}'));
    expect(problems.map((p) => p.at)).toEqual(['["n\\u0000"]', '.s', '.big', '.long', '.list[1]']);
    expect(problems[2]!.message).toMatch(/send it as a string/);
    expect(jsonProblems({ safe: Number.MAX_SAFE_INTEGER, float: 1.5e300 / 1e300 })).toEqual([]);
  });

  it('checks 100,000 levels without recursion and reports the limit once', () => {
    const value = JSON.parse(deep(100_000));
    expect(nesting(value, 64)).toBe(65);
    const problems = jsonProblems(value);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toBe('nests deeper than 32 levels, the most Herald takes');
  });
});

describe('every bad input gets BAD_USER_INPUT naming the field', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    await setUpTopics(t);
  });

  /** Posts a raw body (numbers and escapes exactly as a client could send them). */
  async function raw(body: string): Promise<{ status: number; result: GraphQLResult }> {
    const response = await t.app.yoga.fetch('http://herald.test/graphql', {
      method: 'POST',
      // A client that takes GraphQL's own media type gets 4xx for a request refused before it ran.
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${ADMIN_KEY}` },
      body,
    });
    return { status: response.status, result: (await response.json()) as GraphQLResult };
  }
  const publishRaw = (event: string) => raw(`{"query":${JSON.stringify(PUBLISH)},"variables":{"input":{"event":${event}}}}`);
  const eventCount = async () => (await t.ok('{ events(first: 100) { edges { node { id } } } }')).events.edges.length;

  const cases: Array<[string, string, string, RegExp]> = [
    ['NUL in a data string', '{"topic":"user","action":"created","entityId":"1","data":{"name":"a\\u0000b"}}', 'input.event.data.name', /NUL \(U\+0000\) at position 1/],
    ['NUL in a data key', '{"topic":"user","action":"created","entityId":"1","data":{"na\\u0000me":"x"}}', 'input.event.data["na\\u0000me"]', /has a key that contains NUL/],
    ['NUL in entityId', '{"topic":"user","action":"created","entityId":"1\\u0000","data":{}}', 'input.event.entityId', /NUL/],
    ['a lone surrogate in data', '{"topic":"user","action":"created","entityId":"1","data":{"name":"\\ud800"}}', 'input.event.data.name', /lone UTF-16 surrogate/],
    ['a lone surrogate in a previous key', '{"topic":"user","action":"updated","entityId":"1","data":{},"previous":{"\\udc00":1}}', 'input.event.previous["\\udc00"]', /lone UTF-16 surrogate/],
    ['data nested 5,000 deep', `{"topic":"user","action":"created","entityId":"1","data":${deep(5_000)}}`, 'variables', /nest deeper than 64 levels; event data may nest at most 32/],
    ['data nested 100,000 deep', `{"topic":"user","action":"created","entityId":"1","data":${deep(100_000)}}`, 'variables', /nest deeper than 64 levels/],
    ['data nested 33 deep', `{"topic":"user","action":"created","entityId":"1","data":${deep(33)}}`, `input.event.data${'.a'.repeat(32)}`, /nests deeper than 32 levels/],
    ['1e400', '{"topic":"user","action":"created","entityId":"1","data":{"n":1e400}}', 'input.event.data.n', /JSON cannot carry.*send it as a string/],
    ['an integer past 2^53', '{"topic":"user","action":"created","entityId":"1","data":{"n":12345678901234567890}}', 'input.event.data.n', /beyond ±9007199254740991.*send it as a string/],
    ['occurredAt in the year 0000', '{"topic":"user","action":"created","entityId":"1","data":{},"occurredAt":"0000-01-01T00:00:00Z"}', 'input.event.occurredAt', /between the years 0001 and 9999/],
  ];
  it.each(cases)('%s is refused and stores nothing', async (_name, event, field, message) => {
    const before = await eventCount();
    const { result } = await publishRaw(event);
    const error = errorOf(result, 'BAD_USER_INPUT');
    expect(error.extensions!.field).toBe(field);
    expect(error.message).toMatch(message);
    expect(await eventCount()).toBe(before);
  });

  it('the deepest data allowed (32 levels) and the largest safe integer are taken exactly', async () => {
    const { result } = await publishRaw(`{"topic":"user","action":"created","entityId":"1","data":{"n":9007199254740991,"d":${deep(31)}}}`);
    expect(result.errors).toBeUndefined();
    const newest = (await t.ok('{ events(first: 1) { edges { node { id data } } } }')).events.edges[0].node;
    expect(newest.id).toBe(result.data.publishEvent.event.id);
    expect(newest.data.n).toBe(9007199254740991);
    expect(nesting(newest.data, 100)).toBe(32);
  });

  it('every id argument is checked: revokeApiKey("not-a-uuid")', async () => {
    for (const [query, variables, field] of [
      ['mutation { revokeApiKey(id: "not-a-uuid") { id } }', {}, 'id'],
      ['mutation($id: ID!) { deleteWebhook(id: $id) { id } }', { id: "1' OR 1=1" }, 'id'],
      ['query($w: ID) { instances(first: 5, filter: { webhookId: $w }) { edges { node { id } } } }', { w: 'x' }, 'filter.webhookId'],
      ['mutation($i: RetriggerFilter!) { retriggerInstances(filter: $i) }', { i: { webhookId: '00000000-0000-0000-0000' } }, 'filter.webhookId'],
    ] as const) {
      const error = errorOf(await t.gql(query, variables), 'BAD_USER_INPUT');
      expect(error.extensions!.field).toBe(field);
      expect(error.message).toMatch(/is not a Herald id: ids are UUIDs/);
    }
    // A well-formed id that names nothing is NOT_FOUND, as before.
    errorOf(await t.gql('mutation { revokeApiKey(id: "0192f3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d") { id } }'), 'NOT_FOUND');
  });

  it('NUL in any text argument is refused, naming it', async () => {
    const error = errorOf(await t.gql('mutation($n: String!) { createApiKey(input: { name: $n, role: VIEWER }) { key } }', { n: 'ci\u0000' }), 'BAD_USER_INPUT');
    expect(error.extensions!.field).toBe('input.name');
  });

  it("a wrong-typed variable gets 400 with graphql-js's whole message and a code", async () => {
    const { status, result } = await raw(JSON.stringify({ query: 'query($n: Int) { webhooks(first: $n) { edges { node { id } } } }', variables: { n: 'abc' } }));
    expect(status).toBe(400);
    expect(result.errors![0]!.message).toBe('Variable "$n" got invalid value "abc"; Int cannot represent non-integer value: "abc"');
    expect(result.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
  });

  it('depth, alias, token and cost refusals and bad pagination arguments carry BAD_USER_INPUT', async () => {
    const refusals: Array<[string, RegExp]> = [
      [`{ viewer ${'{ tenant '.repeat(20)}${'}'.repeat(21)}`, /^Query depth limit of 12 exceeded/],
      [`{ ${Array.from({ length: 40 }, (_, i) => `a${i}: viewer { role }`).join(' ')} }`, /^Aliases limit of 30 exceeded/],
      [`{ viewer { ${'role '.repeat(6000)} } }`, /^Token limit of 5000 exceeded/],
      ['{ viewer { role ', /^Syntax Error: Expected Name/],
    ];
    for (const [query, message] of refusals) {
      const { status, result } = await raw(JSON.stringify({ query }));
      expect(status).toBe(400);
      expect(result.errors![0]!.message).toMatch(message);
      expect(result.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    }
    const negative = errorOf(await t.gql('{ webhooks(first: -5) { edges { node { id } } } }'), 'BAD_USER_INPUT');
    expect(negative.extensions!.field).toBe('first');
    const invalid = await raw(JSON.stringify({ query: '{ webhooks(first: 1) { edges { node { nope } } } }' }));
    expect(invalid.status).toBe(400);
    expect(invalid.result.errors![0]).toMatchObject({ message: 'Cannot query field "nope" on type "Webhook".', extensions: { code: 'BAD_USER_INPUT' } });
    const cursor = errorOf(await t.gql('{ webhooks(first: 5, after: "garbage") { edges { node { id } } } }'), 'BAD_USER_INPUT');
    expect(cursor.extensions!.field).toBe('after');
  });

  it('the server keeps answering after all of it', async () => {
    expect((await t.ok('{ viewer { role } }')).viewer.role).toBe('ADMIN');
    expect((await t.ok(PUBLISH, { input: { event: user({}) } })).publishEvent.event.id).toBeDefined();
  });
});
