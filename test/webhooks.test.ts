import { beforeAll, describe, expect, it } from 'vitest';
import { errorOf, OPERATOR_KEY, startTestApp, type TestApp } from './support/app.ts';

const WEBHOOK = `id label description active events topics url method headers { name value secret } payloadMode selectedFields
  template templateFormat conditionMatch secretHint timeoutMs maxAttempts backoffBaseMs backoffCapMs deletedAt
  conditions { id kind match path operator values children { id kind match path operator values children { id kind path operator values } } }`;
const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { ${WEBHOOK} } } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateWebhookInput!) { updateWebhook(id: $id, input: $input) { ${WEBHOOK} } }`;

const delegateTopic = {
  key: 'delegate',
  name: 'Delegate (UserCourseDate)',
  resourceUrlTemplate: 'https://lms.example/api/delegates/{id}',
  fields: [
    { path: 'forename', label: 'Delegate First Name', type: 'STRING', mergeTag: '@@CandidateForename' },
    { path: 'surname', label: 'Delegate Surname', type: 'STRING', mergeTag: '@@CandidateSurname' },
    { path: 'type', label: 'Type', type: 'ENUM', values: ['Delegate', 'Trainer'] },
    { path: 'status', label: 'Status', type: 'ENUM', values: ['Booked', 'Provisional', 'In Progress', 'Completed', 'No Attend', 'Cancelled'] },
    { path: 'sessionId', label: 'Session', type: 'STRING' },
    { path: 'score', label: 'Score', type: 'NUMBER' },
    { path: 'startDate', label: 'Start date', type: 'DATE' },
  ],
};

/** Absorb's events: users created by admins, enrollments completed by learners. */
const absorbTopics = [
  { key: 'user', name: 'User' },
  { key: 'enrollment', name: 'Enrollment', customActions: ['completed'] },
];

export async function setUpTopics(t: TestApp, key?: string) {
  for (const input of [delegateTopic, ...absorbTopics]) {
    await t.ok('mutation($input: CreateTopicInput!) { createTopic(input: $input) { key } }', { input }, key);
  }
}

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
});
