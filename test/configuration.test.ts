// Export a tenant's topics and webhooks, import them into another (Absorb's sandbox to
// production, without recreating every webhook by hand): a dry run says what would change,
// secrets never leave, everything is checked before anything changes.
import { beforeAll, describe, expect, it } from 'vitest';
import { errorOf, OPERATOR_KEY, startTestApp, type TestApp } from './support/app.ts';

const EXPORT = '{ exportConfiguration }';
const IMPORT = 'mutation($d: JSON!, $dry: Boolean) { importConfiguration(document: $d, dryRun: $dry) { dryRun changes { kind name action fields notes } secrets { label secret } } }';
const WEBHOOKS = '{ webhooks { edges { node { label active url events headers { name value secret } conditionMatch conditions { kind match path operator values children { kind path operator values } } } } } }';

describe('configuration export and import', () => {
  let t: TestApp;
  let production: string;
  beforeAll(async () => {
    t = await startTestApp();
    await t.ok('mutation { createTopic(input: { key: "delegate", name: "Delegate", entityIdType: INTEGER, customActions: ["completed"], fields: [{ path: "status", label: "Status", type: ENUM, values: ["Open", "Booked"] }, { path: "sessionId", label: "Session", type: STRING }] }) { key } }');
    await t.ok('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }', {
      input: {
        label: 'HR - New Delegate',
        events: ['delegate.created', 'delegate.completed'],
        url: 'https://hr.example/hooks/{id}',
        active: true,
        headers: [{ name: 'Authorization', value: 'Bearer sandbox-token-123' }, { name: 'X-Source', value: 'herald' }],
        conditions: [{ rule: { path: 'data.sessionId', operator: 'IS_EMPTY' } }, { group: { match: 'ANY', conditions: [{ rule: { path: 'data.status', operator: 'IN', values: ['Booked'] } }] } }],
      },
    });
    production = (await t.ok('mutation { createTenant(input: { name: "Acme production", environment: PRODUCTION }) { key } }', {}, OPERATOR_KEY)).createTenant.key;
  });

  it('exports topics and webhooks without any secret', async () => {
    const doc = (await t.ok(EXPORT)).exportConfiguration;
    expect(doc).toMatchObject({ format: 'herald.configuration/1', topics: [{ key: 'delegate', entityIdType: 'INTEGER', customActions: ['completed'] }], webhooks: [{ label: 'HR - New Delegate' }] });
    expect(doc.webhooks[0].headers).toEqual([{ name: 'Authorization', value: null, secret: true }, { name: 'X-Source', value: 'herald', secret: false }]);
    const text = JSON.stringify(doc);
    expect(text).not.toContain('sandbox-token-123');
    expect(text).not.toContain('whsec_');
  });

  it('a dry run into another tenant lists what it would create, and creates nothing', async () => {
    const doc = (await t.ok(EXPORT)).exportConfiguration;
    const plan = (await t.ok(IMPORT, { d: doc }, production)).importConfiguration;
    expect(plan.dryRun).toBe(true);
    expect(plan.changes).toEqual([
      { kind: 'TOPIC', name: 'delegate', action: 'CREATE', fields: [], notes: [] },
      { kind: 'WEBHOOK', name: 'HR - New Delegate', action: 'CREATE', fields: [], notes: ['secret header Authorization left out: set its value on the new webhook', 'created off: switch it on when it should send'] },
    ]);
    expect((await t.ok(WEBHOOKS, {}, production)).webhooks.edges).toEqual([]);
    expect((await t.ok('{ topics { edges { node { key } } } }', {}, production)).topics.edges.map((e: any) => e.node.key)).toEqual(['herald']);
  });

  it('applies: the same topics and webhooks, new secrets, off until switched on; then again changes nothing', async () => {
    const doc = (await t.ok(EXPORT)).exportConfiguration;
    const applied = (await t.ok(IMPORT, { d: doc, dry: false }, production)).importConfiguration;
    expect(applied.secrets).toEqual([{ label: 'HR - New Delegate', secret: expect.stringMatching(/^whsec_/) }]);
    const [source] = (await t.ok(WEBHOOKS)).webhooks.edges;
    const [copy] = (await t.ok(WEBHOOKS, {}, production)).webhooks.edges;
    expect(copy.node).toEqual({ ...source.node, active: false, headers: [{ name: 'X-Source', value: 'herald', secret: false }] });
    const topic = (await t.ok('{ topic(key: "delegate") { entityIdType customActions fields { path type values } } }', {}, production)).topic;
    expect(topic).toEqual({ entityIdType: 'INTEGER', customActions: ['completed'], fields: [{ path: 'status', type: 'ENUM', values: ['Open', 'Booked'] }, { path: 'sessionId', type: 'STRING', values: [] }] });
    const again = (await t.ok(IMPORT, { d: doc }, production)).importConfiguration;
    expect(again.changes.map((c: any) => c.action)).toEqual(['UNCHANGED', 'UNCHANGED']);
  });

  it('brings a change across: only what differs, and the state and headers there are kept', async () => {
    const id = (await t.ok('{ webhooks { edges { node { id } } } }')).webhooks.edges[0].node.id;
    await t.ok('mutation($id: ID!) { updateWebhook(id: $id, input: { url: "https://hr.example/v2/{id}", timeoutMs: 5000 }) { id } }', { id });
    const doc = (await t.ok(EXPORT)).exportConfiguration;
    const plan = (await t.ok(IMPORT, { d: doc }, production)).importConfiguration;
    expect(plan.changes[1]).toMatchObject({ kind: 'WEBHOOK', action: 'UPDATE', fields: ['timeoutMs', 'url'] });
    expect(plan.changes[1].notes).toEqual(['headers kept as they are (Authorization secret, not in the document)']);
    const prodId = (await t.ok('{ webhooks { edges { node { id } } } }', {}, production)).webhooks.edges[0].node.id;
    await t.ok('mutation($id: ID!) { setWebhookActive(id: $id, active: true) { id } }', { id: prodId }, production);
    await t.ok(IMPORT, { d: doc, dry: false }, production);
    expect((await t.ok('query($id: ID!) { webhook(id: $id) { url timeoutMs active } }', { id: prodId }, production)).webhook).toEqual({ url: 'https://hr.example/v2/{id}', timeoutMs: 5000, active: true });
  });

  it('refuses a bad document naming the part, and changes nothing when any part is wrong', async () => {
    for (const [document, field] of [
      ['not a document', 'document'],
      [{ format: 'svix/1', topics: [], webhooks: [] }, 'document.format'],
      [{ format: 'herald.configuration/1', topics: {}, webhooks: [] }, 'document.topics'],
      [{ format: 'herald.configuration/1', topics: [], webhooks: [{ label: 'a' }, { label: 'a' }] }, 'document.webhooks[1].label'],
    ] as const) {
      const error = errorOf(await t.gql(IMPORT, { d: document }, production), 'BAD_USER_INPUT');
      expect(error.extensions!.problems.map((p: any) => p.field)).toContain(field);
    }
    const doc = (await t.ok(EXPORT)).exportConfiguration;
    const broken = { ...doc, topics: [...doc.topics, { key: 'course', name: 'Course' }], webhooks: [...doc.webhooks, { ...doc.webhooks[0], label: 'Courses', events: ['course.created'], url: 'ftp://nope' }] };
    const error = errorOf(await t.gql(IMPORT, { d: broken, dry: false }, production), 'BAD_USER_INPUT');
    expect(error.extensions!.problems.map((p: any) => p.field)).toEqual(['document.webhooks[1].url']);
    // The valid topic in the same document was not created either.
    expect((await t.ok('{ topics { edges { node { key } } } }', {}, production)).topics.edges.map((e: any) => e.node.key).sort()).toEqual(['delegate', 'herald']);
  });

  it('is for keys that may manage webhooks', async () => {
    const viewer = (await t.ok('mutation { createApiKey(input: { name: "v", role: VIEWER }) { key } }', {}, production)).createApiKey.key;
    const doc = (await t.ok(EXPORT)).exportConfiguration;
    errorOf(await t.gql(IMPORT, { d: doc }, viewer), 'FORBIDDEN');
    expect((await t.ok(EXPORT, {}, viewer)).exportConfiguration.webhooks).toHaveLength(1);
  });
});
