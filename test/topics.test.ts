import { beforeAll, describe, expect, it } from 'vitest';
import { errorOf, OPERATOR_KEY, startTestApp, type TestApp } from './support/app.ts';

const TOPIC = `id key name description resourceUrlTemplate customActions actions eventTypes fields { path label type mergeTag values }`;
const CREATE = `mutation($input: CreateTopicInput!) { createTopic(input: $input) { ${TOPIC} } }`;

const delegate = {
  key: 'delegate',
  name: 'Delegate',
  description: 'A user booked onto a course (UserCourseDate)',
  resourceUrlTemplate: 'https://lms.example/api/delegates/{id}',
  customActions: ['completed', 'awarded'],
  fields: [
    { path: 'forename', label: 'Delegate First Name', type: 'STRING', mergeTag: '@@CandidateForename' },
    { path: 'status', label: 'Status', type: 'ENUM', values: ['Booked', 'Completed', 'No Attend'] },
    { path: 'session.id', label: 'Session', type: 'STRING' },
  ],
};

describe('topics', () => {
  let t: TestApp;
  let otherKey: string;
  let delegateId: string;
  beforeAll(async () => {
    t = await startTestApp();
    otherKey = (await t.ok('mutation { createTenant(input: { name: "B", environment: SANDBOX }) { key } }', {}, OPERATOR_KEY)).createTenant.key;
    delegateId = (await t.ok(CREATE, { input: delegate })).createTopic.id;
  });

  it('keeps everything given, and reads back by key and by id', async () => {
    const expected = {
      ...delegate,
      id: delegateId,
      actions: ['created', 'updated', 'deleted', 'completed', 'awarded'],
      eventTypes: ['delegate.created', 'delegate.updated', 'delegate.deleted', 'delegate.completed', 'delegate.awarded'],
      fields: [
        { ...delegate.fields[0], values: [] },
        { ...delegate.fields[1], mergeTag: null },
        { ...delegate.fields[2], mergeTag: null, values: [] },
      ],
    };
    expect((await t.ok(`{ topic(key: "delegate") { ${TOPIC} } }`)).topic).toEqual(expected);
    expect((await t.ok(`query($id: ID!) { topic(id: $id) { ${TOPIC} } }`, { id: delegateId })).topic).toEqual(expected);
  });

  it("offers sample data with a value of the right type for every catalog field, as the Test button sends", async () => {
    const { topic } = await t.ok('query($key: String!) { topic(key: $key) { sampleData } }', { key: 'delegate' });
    expect(topic.sampleData).toEqual({ forename: 'sample', status: 'Booked', session: { id: 'sample' } });
  });

  it('says how it reads conditions and which headers are always secret (meta), to any key', async () => {
    const { meta } = await t.ok('{ meta { operators { operator label minValues maxValues } secretHeaders } }', {}, otherKey);
    expect(meta.operators).toHaveLength(19);
    expect(meta.operators).toContainEqual({ operator: 'IN', label: 'is one of', minValues: 1, maxValues: 500 });
    expect(meta.operators).toContainEqual({ operator: 'IS_EMPTY', label: 'is empty', minValues: 0, maxValues: 0 });
    expect(meta.operators).toContainEqual({ operator: 'IS_NULL', label: 'is null or missing', minValues: 0, maxValues: 0 });
    expect(meta.secretHeaders).toEqual(expect.arrayContaining(['authorization', 'x-api-key']));
    errorOf(await t.gql('{ meta { secretHeaders } }', {}, null), 'UNAUTHENTICATED');
  });

  it('lists page by page and by search', async () => {
    for (const key of ['course', 'invoice', 'user']) await t.ok(CREATE, { input: { key, name: key.toUpperCase() } });
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 5; page += 1) {
      const { topics }: any = await t.ok('query($after: String) { topics(first: 2, after: $after) { edges { node { key } } pageInfo { hasNextPage endCursor } } }', { after });
      seen.push(...topics.edges.map((e: any) => e.node.key));
      if (!topics.pageInfo.hasNextPage) break;
      after = topics.pageInfo.endCursor;
    }
    expect(seen.sort()).toEqual(['course', 'delegate', 'herald', 'invoice', 'user']); // herald: the built-in topic
    const found = await t.ok('{ topics(search: "userc") { edges { node { key } } } }');
    expect(found.topics.edges.map((e: any) => e.node.key)).toEqual(['delegate']);
  });

  it('updates only what is given; fields replace the catalog; the key never changes', async () => {
    await t.ok(CREATE, { input: { ...delegate, key: 'booking' } });
    const renamed = await t.ok(`mutation { updateTopic(key: "booking", input: { name: "Booking" }) { name fields { path } } }`);
    expect(renamed.updateTopic).toEqual({ name: 'Booking', fields: [{ path: 'forename' }, { path: 'status' }, { path: 'session.id' }] });
    const replaced = await t.ok(`mutation { updateTopic(key: "booking", input: { fields: [{ path: "ref", label: "Ref", type: STRING }] }) { name fields { path } } }`);
    expect(replaced.updateTopic).toEqual({ name: 'Booking', fields: [{ path: 'ref' }] });
    const input = (await t.ok('{ __type(name: "UpdateTopicInput") { inputFields { name } } }')).__type.inputFields.map((f: any) => f.name);
    expect(input).not.toContain('key');
  });

  it('deletes, after which the topic is not found', async () => {
    await t.ok(CREATE, { input: { key: 'temporary', name: 'Temp' } });
    expect((await t.ok('mutation { deleteTopic(key: "temporary") { key } }')).deleteTopic.key).toBe('temporary');
    const error = errorOf(await t.gql('{ topic(key: "temporary") { id } }'), 'NOT_FOUND');
    expect(error.message).toBe('topic "temporary" was not found');
  });

  it('refuses a duplicate key in the tenant with CONFLICT; another tenant may use it', async () => {
    const error = errorOf(await t.gql(CREATE, { input: { key: 'delegate', name: 'Again' } }), 'CONFLICT');
    expect(error.message).toBe('a topic with key "delegate" already exists in this tenant');
    expect(error.extensions?.field).toBe('input.key');
    expect((await t.ok(CREATE, { input: { key: 'delegate', name: 'Theirs' } }, otherKey)).createTopic.key).toBe('delegate');
  });

  describe('refuses bad input, naming the field and what is allowed', () => {
    const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
      ['a key that is not an identifier', { key: 'Bad Key' }, 'input.key', /lower-case identifier.*got "Bad Key"/],
      ['an empty name', { name: '' }, 'input.name', /must not be empty/],
      ['a resource URL without {id}', { resourceUrlTemplate: 'https://x.example/c' }, 'input.resourceUrlTemplate', /must contain the placeholder \{id\}/],
      ['an unknown placeholder', { resourceUrlTemplate: 'https://x.example/{id}/{slug}' }, 'input.resourceUrlTemplate', /unknown placeholder \{slug\}: only \{id\}/],
      ['a non-HTTP resource URL', { resourceUrlTemplate: 'ftp://x.example/{id}' }, 'input.resourceUrlTemplate', /http:\/\/ or https:\/\//],
      ['a reserved action', { customActions: ['created'] }, 'input.customActions[0]', /built in or reserved/],
      ['a duplicate action', { customActions: ['done', 'done'] }, 'input.customActions[1]', /listed twice/],
      ['an action that is not an identifier', { customActions: ['Mark Done'] }, 'input.customActions[0]', /lower-case identifier/],
      ['a duplicate field path', { fields: [{ path: 'a', label: 'A', type: 'STRING' }, { path: 'a', label: 'B', type: 'STRING' }] }, 'input.fields[1].path', /already in the catalog/],
      ['a bad field path', { fields: [{ path: 'a..b', label: 'A', type: 'STRING' }] }, 'input.fields[0].path', /dotted path/],
      ['a merge tag without @@', { fields: [{ path: 'a', label: 'A', type: 'STRING', mergeTag: 'CandidateForename' }] }, 'input.fields[0].mergeTag', /must look like @@CandidateForename/],
      ['a duplicate merge tag', { fields: [{ path: 'a', label: 'A', type: 'STRING', mergeTag: '@@X' }, { path: 'b', label: 'B', type: 'STRING', mergeTag: '@@X' }] }, 'input.fields[1].mergeTag', /already used/],
      ['values on a non-ENUM field', { fields: [{ path: 'a', label: 'A', type: 'STRING', values: ['x'] }] }, 'input.fields[0].values', /only ENUM fields/],
    ];
    it.each(cases)('%s', async (_name, change, field, message) => {
      const before = await t.ok('{ topics(first: 100) { edges { node { key } } } }');
      const error = errorOf(await t.gql(CREATE, { input: { key: 'fresh', name: 'Fresh', ...change } }), 'BAD_USER_INPUT');
      expect(error.extensions?.field).toBe(field);
      expect(error.message).toMatch(message);
      expect(error.message.startsWith(`${field}: `)).toBe(true);
      expect(await t.ok('{ topics(first: 100) { edges { node { key } } } }')).toEqual(before);
    });

    it('reports every problem of one request at once', async () => {
      const error = errorOf(await t.gql(CREATE, { input: { key: 'Bad', name: '', customActions: ['created'] } }), 'BAD_USER_INPUT');
      expect(error.extensions?.problems.map((p: any) => p.field)).toEqual(['input.key', 'input.name', 'input.customActions[0]']);
    });

    it('topic(...) needs exactly one of id or key', async () => {
      errorOf(await t.gql('{ topic { id } }'), 'BAD_USER_INPUT');
      errorOf(await t.gql(`query($id: ID!) { topic(id: $id, key: "delegate") { id } }`, { id: delegateId }), 'BAD_USER_INPUT');
    });
  });

  describe("another tenant cannot read, change or learn of a tenant's topics", () => {
    it('reading by id or key is NOT_FOUND, exactly like a missing id', async () => {
      const theirs = errorOf(await t.gql('query($id: ID!) { topic(id: $id) { name } }', { id: delegateId }, otherKey), 'NOT_FOUND');
      const missing = errorOf(await t.gql('query($id: ID!) { topic(id: $id) { name } }', { id: '0190a000-0000-7000-8000-000000000000' }, otherKey), 'NOT_FOUND');
      expect(theirs.message.replace(delegateId, 'ID')).toBe(missing.message.replace('0190a000-0000-7000-8000-000000000000', 'ID'));
      // B's own "delegate" is a different topic.
      expect((await t.ok('{ topic(key: "delegate") { id name } }', {}, otherKey)).topic).toEqual({ id: expect.not.stringMatching(delegateId), name: 'Theirs' });
    });

    it('updating or deleting by id is NOT_FOUND and changes nothing', async () => {
      errorOf(await t.gql('mutation($id: ID!) { updateTopic(id: $id, input: { name: "Hacked" }) { name } }', { id: delegateId }, otherKey), 'NOT_FOUND');
      errorOf(await t.gql('mutation($id: ID!) { deleteTopic(id: $id) { key } }', { id: delegateId }, otherKey), 'NOT_FOUND');
      expect((await t.ok('query($id: ID!) { topic(id: $id) { name } }', { id: delegateId })).topic.name).toBe('Delegate');
    });

    it('lists only its own topics', async () => {
      const theirs = await t.ok('{ topics(first: 100) { edges { node { id } } } }', {}, otherKey);
      expect(theirs.topics.edges.map((e: any) => e.node.id)).not.toContain(delegateId);
    });
  });
});
