import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { changedPaths, readPath, writePath } from '../src/rules/paths.ts';
import { envelope } from '../src/rules/payload.ts';
import { errorOf, startTestApp, type TestApp } from './support/app.ts';
import { setUpTopics } from './support/fixtures.ts';
import { Receiver } from './support/receiver.ts';

const CREATE_KEY = `mutation($role: Role!) { createApiKey(input: { name: "hostile", role: $role }) { key } }`;
const PREVIEW = `query($webhook: CreateWebhookInput!, $event: EventInput!) { previewWebhookPayload(webhook: $webhook, event: $event) { body } }`;
const PUBLISH = `mutation($input: PublishEventInput!) { publishEvent(input: $input) { event { id } instances { id } } }`;
const CREATE_WEBHOOK = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }`;

/** Whatever a test did, the process's shared prototypes must stay as they were. */
function expectPrototypesClean() {
  const probe = {} as Record<string, unknown>;
  expect(probe.x).toBeUndefined();
  expect(probe.polluted).toBeUndefined();
  expect(Object.keys(Object.prototype)).toEqual([]);
  expect(Object.getOwnPropertyNames(Object.prototype).filter((n) => ['x', 'polluted'].includes(n))).toEqual([]);
}

describe('dotted paths, as plain functions', () => {
  afterEach(expectPrototypesClean);

  it('writePath keeps a step named __proto__ as data, in the object written to', () => {
    const target: Record<string, unknown> = {};
    writePath(target, '__proto__.x', 1);
    writePath(target, 'constructor.prototype.polluted', true);
    expect(JSON.parse(JSON.stringify(target))).toEqual(JSON.parse('{"__proto__":{"x":1},"constructor":{"prototype":{"polluted":true}}}'));
    expect(Object.getPrototypeOf(target)).toBe(Object.prototype);
  });

  it('readPath reads own properties only, never what an object inherits', () => {
    expect(readPath({}, 'constructor')).toBeUndefined();
    expect(readPath({ a: {} }, 'a.__proto__')).toBeUndefined();
    expect(readPath(JSON.parse('{"__proto__":{"x":5}}'), '__proto__.x')).toBe(5);
  });

  it('a changed field named __proto__ in event data is found and sent as data', () => {
    const previous = JSON.parse('{"status":"Booked","__proto__":{"x":1}}');
    const data = JSON.parse('{"status":"Booked","__proto__":{"x":2}}');
    expect(changedPaths(previous, data)).toEqual(['__proto__.x']);
    const event = { id: 'e', topic: 'delegate', action: 'updated', entityId: '1', data, previous, changedFields: null, actor: null, clientId: null, correlationId: null, occurredAt: new Date(0) };
    const body = envelope(event, { key: 'delegate', resourceUrlTemplate: null, fields: [], mergeTags: [] } as never, { mode: 'ID_AND_MODIFIED_FIELDS', selectedFields: [] });
    expect(JSON.parse(JSON.stringify(body))).toMatchObject({ changedFields: ['__proto__.x'], data: JSON.parse('{"__proto__":{"x":2}}') });
  });
});

describe('no key can reach the shared prototypes through a path', () => {
  let t: TestApp;
  const keys: Record<string, string> = {};
  beforeAll(async () => {
    t = await startTestApp({ HERALD_OUTBOUND_ALLOW: '127.0.0.0/8' });
    await setUpTopics(t);
    for (const role of ['VIEWER', 'PUBLISHER', 'DEVELOPER']) keys[role] = (await t.ok(CREATE_KEY, { role })).createApiKey.key;
  });
  afterEach(expectPrototypesClean);

  const update = (changedFields: string[]) => ({ topic: 'delegate', action: 'updated', entityId: '1', data: { status: 'Booked' }, changedFields });
  const hook = { label: 'modified', triggers: [{ topic: 'delegate', trigger: 'UPDATE' }], url: 'https://hr.example/hook', payloadMode: 'ID_AND_MODIFIED_FIELDS' };

  it("a VIEWER's preview with changedFields __proto__.x is refused, naming the field", async () => {
    for (const path of ['__proto__.x', 'constructor.prototype.x', 'a.prototype', '__proto__']) {
      const error = errorOf(await t.gql(PREVIEW, { webhook: hook, event: update([path]) }, keys.VIEWER), 'BAD_USER_INPUT');
      expect(error.extensions!.field).toBe('event.changedFields[0]');
      expect(error.message).toContain('reserved');
    }
    // The server goes on answering everyone.
    expect((await t.ok(PREVIEW, { webhook: hook, event: update(['status']) }, keys.VIEWER)).previewWebhookPayload.body).toContain('"status":"Booked"');
  });

  it("a PUBLISHER's event with changedFields __proto__.polluted is refused and stores nothing", async () => {
    const error = errorOf(await t.gql(PUBLISH, { input: { event: update(['__proto__.polluted']) } }, keys.PUBLISHER), 'BAD_USER_INPUT');
    expect(error.extensions!.field).toBe('input.event.changedFields[0]');
  });

  it("a DEVELOPER's topic field path or condition path through __proto__ is refused", async () => {
    const topic = { key: 'course', name: 'Course', fields: [{ path: 'constructor.prototype.polluted', label: 'P', type: 'STRING' }] };
    const topicError = errorOf(await t.gql('mutation($input: CreateTopicInput!) { createTopic(input: $input) { key } }', { input: topic }, keys.DEVELOPER), 'BAD_USER_INPUT');
    expect(topicError.extensions!.field).toBe('input.fields[0].path');
    const conditional = { ...hook, conditions: [{ rule: { path: 'data.__proto__.polluted', operator: 'IS_NOT_NULL' } }] };
    const conditionError = errorOf(await t.gql(CREATE_WEBHOOK, { input: conditional }, keys.DEVELOPER), 'BAD_USER_INPUT');
    expect(conditionError.extensions!.field).toBe('input.conditions[0].rule.path');
    expect(conditionError.message).toContain('reserved');
    const header = { ...hook, headers: [{ name: '__proto__', value: 'x' }] };
    expect(errorOf(await t.gql(CREATE_WEBHOOK, { input: header }, keys.DEVELOPER), 'BAD_USER_INPUT').extensions!.field).toBe('input.headers[0].name');
  });

  it('event data with keys named __proto__ and constructor reaches the receiver as plain data', async () => {
    const receiver = await Receiver.start();
    const full = { label: 'full', events: ['delegate.updated'], url: `${receiver.url}/full`, payloadMode: 'FULL', active: true };
    const modified = { ...full, label: 'modified', url: `${receiver.url}/modified`, payloadMode: 'ID_AND_MODIFIED_FIELDS' };
    await t.ok(CREATE_WEBHOOK, { input: full });
    await t.ok(CREATE_WEBHOOK, { input: modified });
    // Sent as raw JSON, the way a client's JSON.stringify would put it on the wire.
    const event = '{"topic":"delegate","action":"updated","entityId":"7","data":{"status":"Booked","__proto__":{"polluted":2},"constructor":{"prototype":{"x":1}}},"previous":{"status":"Booked","__proto__":{"polluted":1}}}';
    const response = await t.app.yoga.fetch('http://herald.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.PUBLISHER}` },
      body: `{"query":${JSON.stringify(PUBLISH)},"variables":{"input":{"event":${event}}}}`,
    });
    const published = (await response.json()) as any;
    expect(published.errors).toBeUndefined();
    expect(published.data.publishEvent.instances).toHaveLength(2);
    await receiver.waitFor(2);
    const bodies = Object.fromEntries(receiver.received.map((r) => [r.url, r.body]));
    expect(bodies['/full']).toContain('"data":{"status":"Booked","__proto__":{"polluted":2},"constructor":{"prototype":{"x":1}}}');
    expect(JSON.parse(bodies['/modified']!)).toMatchObject({ changedFields: ['__proto__.polluted', 'constructor'] });
    expect(bodies['/modified']).toContain('"data":{"__proto__":{"polluted":2},"constructor":{"prototype":{"x":1}}}');
  });
});
