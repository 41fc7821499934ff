import { beforeAll, describe, expect, it } from 'vitest';
import { errorOf, OPERATOR_KEY, startTestApp, type TestApp } from './support/app.ts';
import { setUpTopics } from './support/fixtures.ts';

const WEBHOOK = `id label description active events topics url method headers { name value secret } payloadMode selectedFields
  template templateFormat conditionMatch secretHint timeoutMs maxAttempts backoffBaseMs backoffCapMs deletedAt
  conditions { id kind match path operator values children { id kind match path operator values children { id kind path operator values } } }`;
const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { ${WEBHOOK} } } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateWebhookInput!) { updateWebhook(id: $id, input: $input) { ${WEBHOOK} } }`;

const newDelegateHook = {
  label: 'HR - New Delegate',
  description: 'Send new delegates to the HR system',
  triggers: [{ topic: 'delegate', trigger: 'CREATE' }],
  url: 'https://hr.example/hooks/delegates',
  method: 'POST',
  payloadMode: 'SELECTED_FIELDS',
  selectedFields: ['forename', 'surname', 'status'],
  conditions: [
    { rule: { path: 'data.type', operator: 'EQUALS', values: ['Delegate'] } },
    { rule: { path: 'data.status', operator: 'IN', values: ['Completed', 'Provisional', 'In Progress', 'Booked'] } },
    { rule: { path: 'data.sessionId', operator: 'IS_NULL' } },
  ],
};

describe('webhooks', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    await setUpTopics(t);
  });

  it("accessplanit's new-delegate webhook: created inactive, with its trigger, conditions and selected fields", async () => {
    const { secret, webhook } = (await t.ok(CREATE, { input: newDelegateHook })).createWebhook;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(webhook).toMatchObject({
      label: 'HR - New Delegate',
      active: false,
      events: ['delegate.created'],
      topics: ['delegate'],
      method: 'POST',
      payloadMode: 'SELECTED_FIELDS',
      selectedFields: ['forename', 'surname', 'status'],
      conditionMatch: 'ALL',
      secretHint: `…${secret.slice(-4)}`,
      timeoutMs: 10_000,
      maxAttempts: 5,
    });
    expect(webhook.conditions.map((c: any) => [c.kind, c.path, c.operator, c.values])).toEqual([
      ['RULE', 'data.type', 'EQUALS', ['Delegate']],
      ['RULE', 'data.status', 'IN', ['Completed', 'Provisional', 'In Progress', 'Booked']],
      ['RULE', 'data.sessionId', 'IS_NULL', []],
    ]);
    const read = await t.ok(`query($id: ID!) { webhook(id: $id) { ${WEBHOOK} } }`, { id: webhook.id });
    expect(read.webhook).toEqual(webhook);
    expect(JSON.stringify(read)).not.toContain(secret);
  });

  it("Absorb's one webhook with two events across topics", async () => {
    const { webhook } = (
      await t.ok(CREATE, { input: { label: 'Absorb listener', events: ['user.created', 'enrollment.completed'], url: 'https://listener.example/absorb', active: true } })
    ).createWebhook;
    expect(webhook).toMatchObject({ events: ['enrollment.completed', 'user.created'], topics: ['enrollment', 'user'], active: true });
  });

  it('a topic with its trigger CREATE_OR_UPDATE, and topic.* for every action', async () => {
    const { webhook } = (
      await t.ok(CREATE, {
        input: { label: 'Sync', triggers: [{ topic: 'delegate', trigger: 'CREATE_OR_UPDATE' }], events: ['enrollment.*', 'enrollment.completed'], url: 'https://x.example/h' },
      })
    ).createWebhook;
    expect(webhook.events).toEqual(['delegate.created', 'delegate.updated', 'enrollment.*']);
  });

  it('updates only what is given, and activates and deactivates', async () => {
    const { webhook } = (await t.ok(CREATE, { input: { ...newDelegateHook, label: 'To change' } })).createWebhook;
    const updated = (await t.ok(UPDATE, { id: webhook.id, input: { method: 'PUT', timeoutMs: 20_000 } })).updateWebhook;
    expect(updated).toMatchObject({ label: 'To change', method: 'PUT', timeoutMs: 20_000, selectedFields: ['forename', 'surname', 'status'] });
    expect(updated.conditions).toHaveLength(3);
    const on = await t.ok('mutation($id: ID!) { setWebhookActive(id: $id, active: true) { active } }', { id: webhook.id });
    expect(on.setWebhookActive.active).toBe(true);
    const off = await t.ok('mutation($id: ID!) { setWebhookActive(id: $id, active: false) { active } }', { id: webhook.id });
    expect(off.setWebhookActive.active).toBe(false);
  });

  it('deleting keeps the webhook readable by id but out of lists, and refuses further changes', async () => {
    const { webhook } = (await t.ok(CREATE, { input: { ...newDelegateHook, label: 'Doomed' } })).createWebhook;
    const deleted = (await t.ok('mutation($id: ID!) { deleteWebhook(id: $id) { deletedAt active } }', { id: webhook.id })).deleteWebhook;
    expect(deleted.active).toBe(false);
    expect(deleted.deletedAt).not.toBeNull();
    expect((await t.ok('query($id: ID!) { webhook(id: $id) { label deletedAt } }', { id: webhook.id })).webhook.label).toBe('Doomed');
    const listed = await t.ok('{ webhooks(first: 100) { edges { node { id } } } }');
    expect(listed.webhooks.edges.map((e: any) => e.node.id)).not.toContain(webhook.id);
    const withDeleted = await t.ok('{ webhooks(first: 100, filter: { includeDeleted: true }) { edges { node { id } } } }');
    expect(withDeleted.webhooks.edges.map((e: any) => e.node.id)).toContain(webhook.id);
    errorOf(await t.gql(UPDATE, { id: webhook.id, input: { label: 'Back' } }), 'NOT_FOUND');
  });

  it('lists by active, topic, event type and text', async () => {
    const labels = async (filter: object) =>
      (await t.ok('query($f: WebhookFilter) { webhooks(first: 100, filter: $f) { edges { node { label } } } }', { f: filter })).webhooks.edges.map((e: any) => e.node.label).sort();
    expect(await labels({ topic: 'user' })).toEqual(['Absorb listener']);
    expect(await labels({ eventType: 'enrollment.completed' })).toEqual(['Absorb listener', 'Sync']);
    expect(await labels({ active: true, search: 'absorb' })).toEqual(['Absorb listener']);
    expect(await labels({ search: 'HR system' })).toEqual(['HR - New Delegate', 'To change']);
  });

  it('rotating the secret returns a new one once; the old one keeps signing for the given time', async () => {
    const { webhook, secret } = (await t.ok(CREATE, { input: { ...newDelegateHook, label: 'Rotate me' } })).createWebhook;
    const rotated = (
      await t.ok('mutation($id: ID!) { rotateWebhookSecret(id: $id, keepPreviousSeconds: 3600) { secret webhook { secretHint previousSecretExpiresAt } } }', { id: webhook.id })
    ).rotateWebhookSecret;
    expect(rotated.secret).not.toBe(secret);
    expect(rotated.webhook.secretHint).toBe(`…${rotated.secret.slice(-4)}`);
    expect(new Date(rotated.webhook.previousSecretExpiresAt).getTime()).toBeGreaterThan(Date.now() + 3500_000);
  });

  it('hides secret header values after saving', async () => {
    const { webhook } = (
      await t.ok(CREATE, {
        input: { ...newDelegateHook, label: 'Headers', headers: [{ name: 'Authorization', value: 'Bearer s3cr3t' }, { name: 'X-Tenant', value: 'acme' }, { name: 'X-Token', value: 'hidden', secret: true }, { name: 'Cookie', value: 'sid=1', secret: false }] },
      })
    ).createWebhook;
    expect(webhook.headers).toEqual([
      { name: 'Authorization', value: null, secret: true },
      { name: 'X-Tenant', value: 'acme', secret: false },
      { name: 'X-Token', value: null, secret: true },
      // Credentials stay hidden even when the input says `secret: false`.
      { name: 'Cookie', value: null, secret: true },
    ]);
  });

  describe('conditions are first-class', () => {
    let id: string;
    beforeAll(async () => {
      id = (await t.ok(CREATE, { input: { label: 'Conditions', triggers: [{ topic: 'delegate', trigger: 'UPDATE' }], url: 'https://x.example/c' } })).createWebhook.webhook.id;
    });
    const ADD = `mutation($w: ID!, $p: ID, $c: ConditionInput!) { addCondition(webhookId: $w, parentId: $p, condition: $c) { id kind match path operator values children { id path } } }`;

    it('adds rules and nested groups, updates and removes them', async () => {
      const rule = (await t.ok(ADD, { w: id, c: { rule: { path: 'data.status', operator: 'CHANGED_TO', values: ['Completed', 'No Attend'] } } })).addCondition;
      expect(rule).toMatchObject({ kind: 'RULE', path: 'data.status', operator: 'CHANGED_TO', values: ['Completed', 'No Attend'] });
      const group = (
        await t.ok(ADD, { w: id, c: { group: { match: 'ANY', conditions: [{ rule: { path: 'data.score', operator: 'GREATER_THAN', values: [50] } }] } } })
      ).addCondition;
      expect(group).toMatchObject({ kind: 'GROUP', match: 'ANY', children: [{ path: 'data.score' }] });
      await t.ok(ADD, { w: id, p: group.id, c: { rule: { path: 'actor.type', operator: 'EQUALS', values: ['admin'] } } });
      const changed = await t.ok('mutation($id: ID!) { updateCondition(id: $id, input: { values: ["Completed"] }) { values } }', { id: rule.id });
      expect(changed.updateCondition.values).toEqual(['Completed']);
      await t.ok('mutation($id: ID!) { updateCondition(id: $id, input: { match: ALL }) { match } }', { id: group.id });
      let tree = (await t.ok(`query($id: ID!) { webhook(id: $id) { ${WEBHOOK} } }`, { id })).webhook.conditions;
      expect(tree).toMatchObject([{ path: 'data.status' }, { kind: 'GROUP', match: 'ALL', children: [{ path: 'data.score' }, { path: 'actor.type' }] }]);
      const removed = await t.ok('mutation($id: ID!) { removeCondition(id: $id) { id webhookId } }', { id: group.id });
      expect(removed.removeCondition).toEqual({ id: group.id, webhookId: id });
      tree = (await t.ok(`query($id: ID!) { webhook(id: $id) { ${WEBHOOK} } }`, { id })).webhook.conditions;
      expect(tree.map((c: any) => c.path)).toEqual(['data.status']);
    });

    it('refuses an update that breaks a rule, naming the field, and keeps the rule as it was', async () => {
      const rule = (await t.ok(ADD, { w: id, c: { rule: { path: 'data.type', operator: 'EQUALS', values: ['Delegate'] } } })).addCondition;
      const error = errorOf(await t.gql('mutation($id: ID!) { updateCondition(id: $id, input: { values: ["Manager"] }) { id } }', { id: rule.id }), 'BAD_USER_INPUT');
      expect(error.extensions?.field).toBe('input.values[0]');
      expect(error.message).toContain('data.type takes one of Delegate, Trainer; got "Manager"');
      const match = errorOf(await t.gql('mutation($id: ID!) { updateCondition(id: $id, input: { match: ANY }) { id } }', { id: rule.id }), 'BAD_USER_INPUT');
      expect(match.extensions?.field).toBe('input.match');
      const tree = (await t.ok(`query($id: ID!) { webhook(id: $id) { ${WEBHOOK} } }`, { id })).webhook.conditions;
      expect(tree.find((c: any) => c.id === rule.id).values).toEqual(['Delegate']);
      await t.ok('mutation($id: ID!) { removeCondition(id: $id) { id } }', { id: rule.id });
    });

    it('refuses a rule added to a rule', async () => {
      const rule = (await t.ok(ADD, { w: id, c: { rule: { path: 'entityId', operator: 'IS_NOT_NULL' } } })).addCondition;
      const error = errorOf(await t.gql(ADD, { w: id, p: rule.id, c: { rule: { path: 'entityId', operator: 'IS_NOT_NULL' } } }), 'BAD_USER_INPUT');
      expect(error.extensions?.field).toBe('parentId');
    });

    it('refuses changing the events so existing conditions could no longer hold', async () => {
      const error = errorOf(await t.gql(UPDATE, { id, input: { triggers: [{ topic: 'delegate', trigger: 'DELETE' }] } }), 'BAD_USER_INPUT');
      expect(error.message).toContain('the existing condition "data.status CHANGED_TO" would no longer work: this webhook only receives delete events');
    });
  });

  describe('refuses bad settings, naming the field and what is allowed', () => {
    const base = { label: 'Bad', events: ['delegate.created'], url: 'https://x.example/h' };
    const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
      ['no label', { label: ' ' }, 'input.label', /must not be empty/],
      ['an unknown topic', { events: ['invoice.created'] }, 'input.events[0]', /unknown topic "invoice"; topics: delegate, enrollment, herald, user/],
      ['an unknown action', { events: ['user.completed'] }, 'input.events[0]', /topic user has no action "completed"; its actions: created, updated, deleted \(or \* for all\)/],
      ['an event type that is not topic.action', { events: ['created'] }, 'input.events[0]', /expected topic\.action/],
      ['an unknown trigger topic', { events: null, triggers: [{ topic: 'invoice', trigger: 'CREATE' }] }, 'input.triggers[0].topic', /unknown topic "invoice"/],
      ['no events at all', { events: [] }, 'input.events', /at least one event type/],
      ['a non-HTTP URL', { url: 'ftp://x.example/h' }, 'input.url', /must use http or https \(got ftp\)/],
      ['a URL with a password', { url: 'https://user:pw@x.example/h' }, 'input.url', /must not contain a user name or password/],
      ['a relative URL', { url: '/hooks' }, 'input.url', /not an absolute URL/],
      ['a hop-by-hop header', { headers: [{ name: 'Connection', value: 'close' }] }, 'input.headers[0].name', /cannot be overridden/],
      ['a signature header', { headers: [{ name: 'webhook-signature', value: 'v1,x' }] }, 'input.headers[0].name', /cannot be overridden/],
      ['a header value with a line break', { headers: [{ name: 'X-A', value: 'a\r\nX-B: b' }] }, 'input.headers[0].value', /a line break \(U\+000D\) at position 1/],
      ['a header value Node cannot send (beyond Latin-1)', { headers: [{ name: 'X-Price', value: '5 €' }] }, 'input.headers[0].value', /a character beyond Latin-1 \(U\+20AC\) at position 2.*printable Latin-1/],
      ['a header value with a control character', { headers: [{ name: 'X-A', value: 'a\u0001' }] }, 'input.headers[0].value', /a control character \(U\+0001\)/],
      ['selected fields outside the catalog', { payloadMode: 'SELECTED_FIELDS', selectedFields: ['password'] }, 'input.selectedFields[0]', /"password" is not in the field catalog; fields: forename, surname/],
      ['SELECTED_FIELDS without fields', { payloadMode: 'SELECTED_FIELDS' }, 'input.selectedFields', /at least one field/],
      ['CUSTOM without a template', { payloadMode: 'CUSTOM' }, 'input.template', /CUSTOM needs a template/],
      ['a template with an unknown merge tag', { payloadMode: 'CUSTOM', templateFormat: 'XML', template: '<d>\n <n>@@CandidateNickname</n>\n</d>' }, 'input.template', /^input\.template: line 2, column 5: unknown merge tag @@CandidateNickname/],
      ['a template that does not parse', { payloadMode: 'CUSTOM', templateFormat: 'TEXT', template: 'Hi {% for x in data.list %}' }, 'input.template', /line 1, column 4: .*not closed/],
      ['a timeout over 30 s', { timeoutMs: 60_000 }, 'input.timeoutMs', /from 1000 to 30000 milliseconds \(got 60000\)/],
      ['no attempts', { maxAttempts: 0 }, 'input.maxAttempts', /from 1 to 100/],
      ['a backoff cap under its base', { backoffBaseMs: 60_000, backoffCapMs: 10_000 }, 'input.backoffCapMs', /from 60000 to 86400000/],
      ['a condition on a field outside the catalog', { conditions: [{ rule: { path: 'data.colour', operator: 'EQUALS', values: ['red'] } }] }, 'input.conditions[0].rule.path', /"colour" is not in the field catalog of delegate/],
      ['a value the ENUM does not have', { conditions: [{ rule: { path: 'data.status', operator: 'EQUALS', values: ['Done'] } }] }, 'input.conditions[0].rule.values[0]', /takes one of Booked, Provisional/],
      ['a text value for a number', { conditions: [{ rule: { path: 'data.score', operator: 'GREATER_THAN', values: ['high'] } }] }, 'input.conditions[0].rule.values[0]', /is a NUMBER: expected a number/],
      ['a comparison on an ENUM', { conditions: [{ rule: { path: 'data.status', operator: 'GREATER_THAN', values: ['Booked'] } }] }, 'input.conditions[0].rule.operator', /needs a number, text or date field/],
      ['AFTER_NOW on a text field', { conditions: [{ rule: { path: 'data.forename', operator: 'AFTER_NOW' } }] }, 'input.conditions[0].rule.operator', /needs a date field/],
      ['IN without values', { conditions: [{ rule: { path: 'data.status', operator: 'IN', values: [] } }] }, 'input.conditions[0].rule.values', /IN takes 1 to 500 values \(got 0\)/],
      ['IS_NULL with a value', { conditions: [{ rule: { path: 'data.sessionId', operator: 'IS_NULL', values: ['x'] } }] }, 'input.conditions[0].rule.values', /takes no values/],
      ['a path Herald cannot read', { conditions: [{ rule: { path: 'secret.thing', operator: 'IS_NULL' } }] }, 'input.conditions[0].rule.path', /not a path Herald can read/],
      ['a data field on a delete-only webhook', { events: ['delegate.deleted'], conditions: [{ rule: { path: 'data.status', operator: 'EQUALS', values: ['Booked'] } }] }, 'input.conditions[0].rule.path', /only receives delete events, which carry only the entity id/],
      ['CHANGED on a create-only webhook', { conditions: [{ rule: { path: 'data.status', operator: 'CHANGED' } }] }, 'input.conditions[0].rule.operator', /only receives created events, which have no previous state/],
      ['a condition with both rule and group', { conditions: [{ rule: { path: 'entityId', operator: 'IS_NULL' }, group: { match: 'ANY', conditions: [] } }] }, 'input.conditions[0]', /exactly one of `rule` or `group`/],
      [
        'groups nested too deep',
        { conditions: [{ group: { match: 'ANY', conditions: [{ group: { match: 'ANY', conditions: [{ group: { match: 'ANY', conditions: [{ group: { match: 'ANY', conditions: [{ group: { match: 'ANY', conditions: [] } }] } }] } }] } }] } }] },
        'input.conditions[0].group.conditions[0].group.conditions[0].group.conditions[0].group.conditions[0].group',
        /nest at most 5 levels/,
      ],
    ];
    it.each(cases)('%s', async (_name, change, field, message) => {
      const before = await t.ok('{ webhooks(first: 100) { edges { node { id } } } }');
      const error = errorOf(await t.gql(CREATE, { input: { ...base, ...change } }), 'BAD_USER_INPUT');
      expect(error.extensions?.field).toBe(field);
      expect(error.message).toMatch(message);
      expect(await t.ok('{ webhooks(first: 100) { edges { node { id } } } }')).toEqual(before);
    });
  });

  describe('topics used by webhooks', () => {
    it('cannot be deleted, nor lose an action a webhook takes', async () => {
      const error = errorOf(await t.gql('mutation { deleteTopic(key: "user") { key } }'), 'CONFLICT');
      expect(error.message).toBe('topic "user" is used by the webhooks "Absorb listener"; change or delete them first');
      const dropped = errorOf(await t.gql('mutation { updateTopic(key: "enrollment", input: { customActions: [] }) { key } }'), 'CONFLICT');
      expect(dropped.message).toContain('action "completed" is used by the webhooks "Absorb listener"');
    });
  });

  describe('roles and tenants', () => {
    let viewer: string;
    let publisher: string;
    let other: string;
    let hookId: string;
    let conditionId: string;
    beforeAll(async () => {
      const key = async (role: string) => (await t.ok('mutation($r: Role!) { createApiKey(input: { name: "k", role: $r }) { key } }', { r: role })).createApiKey.key;
      viewer = await key('VIEWER');
      publisher = await key('PUBLISHER');
      other = (await t.ok('mutation { createTenant(input: { name: "Other", environment: SANDBOX }) { key } }', {}, OPERATOR_KEY)).createTenant.key;
      await setUpTopics(t, other);
      const { webhook } = (await t.ok(CREATE, { input: { ...newDelegateHook, label: 'Mine' } })).createWebhook;
      hookId = webhook.id;
      conditionId = webhook.conditions[0].id;
    });

    it('a VIEWER reads and previews but cannot change; a PUBLISHER cannot even read', async () => {
      expect((await t.ok('query($id: ID!) { webhook(id: $id) { label } }', { id: hookId }, viewer)).webhook.label).toBe('Mine');
      errorOf(await t.gql(CREATE, { input: newDelegateHook }, viewer), 'FORBIDDEN');
      errorOf(await t.gql(UPDATE, { id: hookId, input: { label: 'x' } }, viewer), 'FORBIDDEN');
      errorOf(await t.gql('mutation($id: ID!) { removeCondition(id: $id) { id } }', { id: conditionId }, viewer), 'FORBIDDEN');
      errorOf(await t.gql('{ webhooks { edges { node { id } } } }', {}, publisher), 'FORBIDDEN');
    });

    it("another tenant gets NOT_FOUND for everything of this tenant's, and changes nothing", async () => {
      const id = { id: hookId };
      const attempts: Array<[string, Record<string, unknown>]> = [
        ['query($id: ID!) { webhook(id: $id) { label } }', id],
        [UPDATE, { id: hookId, input: { label: 'Hijacked', url: 'https://evil.example/' } }],
        ['mutation($id: ID!) { setWebhookActive(id: $id, active: true) { id } }', id],
        ['mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }', id],
        ['mutation($id: ID!) { deleteWebhook(id: $id) { id } }', id],
        ['mutation($id: ID!) { addCondition(webhookId: $id, condition: { rule: { path: "entityId", operator: IS_NULL } }) { id } }', id],
        ['mutation($id: ID!) { updateCondition(id: $id, input: { values: ["Trainer"] }) { id } }', { id: conditionId }],
        ['mutation($id: ID!) { removeCondition(id: $id) { id } }', { id: conditionId }],
        ['query($id: ID!) { previewWebhookPayload(webhookId: $id, event: { topic: "delegate", action: "created", entityId: "1", data: {} }) { body } }', id],
      ];
      for (const [query, variables] of attempts) {
        const error = errorOf(await t.gql(query, variables, other), 'NOT_FOUND');
        expect(error.message).toMatch(/^(webhook|condition) ".*" was not found$/);
      }
      const mine = (await t.ok(`query($id: ID!) { webhook(id: $id) { ${WEBHOOK} } }`, { id: hookId })).webhook;
      expect(mine).toMatchObject({ label: 'Mine', url: newDelegateHook.url, active: false, deletedAt: null });
      expect(mine.conditions[0].values).toEqual(['Delegate']);
      const theirs = await t.ok('{ webhooks(first: 100) { edges { node { id } } } }', {}, other);
      expect(theirs.webhooks.edges).toEqual([]);
    });
  });
});
