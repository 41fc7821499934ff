import { Webhook as StandardWebhook } from 'standardwebhooks';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorOf, startTestApp, type TestApp } from './support/app.ts';
import { setUpTopics } from './support/fixtures.ts';

const PREVIEW = `query($id: ID, $webhook: CreateWebhookInput, $event: EventInput!) {
  previewWebhookPayload(webhookId: $id, webhook: $webhook, event: $event) {
    eventType subscribed conditionsMatch wouldSend reasons method url headers { name value } body renderError exampleSecret
  }
}`;
const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { id } } }`;

const newDelegate = (data: Record<string, unknown>) => ({ topic: 'delegate', action: 'created', entityId: '1001', data, actor: { type: 'admin', id: '7' } });
const header = (preview: any, name: string) => preview.headers.find((h: any) => h.name === name)?.value;

describe('previewing what a webhook would send', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    await setUpTopics(t);
  });

  describe("accessplanit's POST for a new Delegate", () => {
    let id: string;
    let secret: string;
    beforeAll(async () => {
      ({ secret, webhook: { id } } = (
        await t.ok(CREATE, {
          input: {
            label: 'HR - New Delegate',
            triggers: [{ topic: 'delegate', trigger: 'CREATE' }],
            url: 'https://hr.example/hooks/delegates',
            payloadMode: 'SELECTED_FIELDS',
            selectedFields: ['forename', 'surname', 'status'],
            headers: [{ name: 'Authorization', value: 'Bearer receiver-secret' }, { name: 'X-Source', value: 'lms' }],
            conditions: [
              { rule: { path: 'data.type', operator: 'EQUALS', values: ['Delegate'] } },
              { rule: { path: 'data.status', operator: 'IN', values: ['Completed', 'Provisional', 'In Progress', 'Booked'] } },
              { rule: { path: 'data.sessionId', operator: 'IS_NULL' } },
            ],
          },
        })
      ).createWebhook);
    });

    it('matches a delegate of type Delegate and shows the exact signed request', async () => {
      const data = { forename: 'Ada', surname: 'Lovelace', type: 'Delegate', status: 'Booked', sessionId: null, score: 3 };
      const p = (await t.ok(PREVIEW, { id, event: newDelegate(data) })).previewWebhookPayload;
      expect(p).toMatchObject({ eventType: 'delegate.created', subscribed: true, conditionsMatch: true, wouldSend: true, reasons: [], method: 'POST', url: 'https://hr.example/hooks/delegates', exampleSecret: false });
      expect(JSON.parse(p.body)).toMatchObject({
        type: 'delegate.created',
        entityId: '1001',
        resourceUrl: 'https://lms.example/api/delegates/1001',
        actor: { type: 'admin', id: '7' },
        data: { forename: 'Ada', surname: 'Lovelace', status: 'Booked' },
      });
      expect(JSON.parse(p.body).data).not.toHaveProperty('score');
      expect(header(p, 'content-type')).toBe('application/json');
      expect(header(p, 'user-agent')).toMatch(/^Herald\/\d+\.\d+\.\d+$/);
      expect(header(p, 'authorization')).toBe('[secret]');
      expect(header(p, 'x-source')).toBe('lms');
      expect(JSON.stringify(p)).not.toContain('receiver-secret');
      const headers = Object.fromEntries(p.headers.map((h: any) => [h.name, h.value]));
      expect(new StandardWebhook(secret).verify(p.body, headers)).toEqual(JSON.parse(p.body));
    });

    it('does not match a delegate of type Trainer, and says why', async () => {
      const p = (await t.ok(PREVIEW, { id, event: newDelegate({ forename: 'T', surname: 'R', type: 'Trainer', status: 'Booked', sessionId: null }) })).previewWebhookPayload;
      expect(p).toMatchObject({ subscribed: true, conditionsMatch: false, wouldSend: false, reasons: ['data.type is "Trainer", not "Delegate"'] });
    });

    it('does not send for an update, which it does not subscribe to', async () => {
      const p = (await t.ok(PREVIEW, { id, event: { ...newDelegate({ type: 'Delegate', status: 'Booked' }), action: 'updated' } })).previewWebhookPayload;
      expect(p).toMatchObject({ subscribed: false, wouldSend: false, reasons: ['the webhook does not subscribe to delegate.updated (it takes delegate.created)'] });
    });
  });

  describe("accessplanit's PUT when a status changes to Completed or No Attend", () => {
    const webhook = {
      label: 'VLE - Completion',
      triggers: [{ topic: 'delegate', trigger: 'UPDATE' }],
      url: 'https://vle.example/api/delegates/{id}',
      method: 'PUT',
      payloadMode: 'ID_AND_MODIFIED_FIELDS',
      conditions: [{ rule: { path: 'data.status', operator: 'CHANGED_TO', values: ['Completed', 'No Attend'] } }],
    };
    const update = (previous: object, data: object) => ({ topic: 'delegate', action: 'updated', entityId: '55', previous, data });

    it('matches only that change, and sends the id and modified fields to the record URL', async () => {
      const p = (await t.ok(PREVIEW, { webhook, event: update({ status: 'Booked', score: 0 }, { status: 'Completed', score: 87 }) })).previewWebhookPayload;
      expect(p).toMatchObject({ wouldSend: true, method: 'PUT', url: 'https://vle.example/api/delegates/55', exampleSecret: true });
      expect(JSON.parse(p.body)).toMatchObject({ entityId: '55', changedFields: ['status', 'score'], data: { status: 'Completed', score: 87 } });
      const same = (await t.ok(PREVIEW, { webhook, event: update({ status: 'Completed', score: 1 }, { status: 'Completed', score: 2 }) })).previewWebhookPayload;
      expect(same).toMatchObject({ wouldSend: false, reasons: ['data.status did not change'] });
      const other = (await t.ok(PREVIEW, { webhook, event: update({ status: 'Booked' }, { status: 'Cancelled' }) })).previewWebhookPayload;
      expect(other.reasons).toEqual(['data.status changed to "Cancelled", not to one of ["Completed","No Attend"]']);
    });
  });

  it('an XML custom template with merge fields renders and escapes', async () => {
    const webhook = {
      label: 'Finance XML',
      events: ['delegate.created'],
      url: 'https://finance.example/in',
      payloadMode: 'CUSTOM',
      templateFormat: 'XML',
      template: '<Delegate id="@@EntityId">\n  <Name>@@CandidateForename @@CandidateSurname</Name>\n  {% if data.score %}<Score>{{ data.score }}</Score>{% endif %}\n</Delegate>',
    };
    const p = (await t.ok(PREVIEW, { webhook, event: newDelegate({ forename: 'Ada <script>', surname: 'O\'Neil & Sons', score: 9 }) })).previewWebhookPayload;
    expect(header(p, 'content-type')).toBe('application/xml; charset=utf-8');
    expect(p.body).toBe('<Delegate id="1001">\n  <Name>Ada &lt;script&gt; O&apos;Neil &amp; Sons</Name>\n  <Score>9</Score>\n</Delegate>');
  });

  it("Evins' action types: new, update and delete, and no result on delete", async () => {
    const webhook = {
      label: 'Evins coupling',
      triggers: [{ topic: 'user', trigger: 'CREATE_OR_UPDATE' }, { topic: 'user', trigger: 'DELETE' }],
      url: 'https://evins.example/hook',
      payloadMode: 'CUSTOM',
      templateFormat: 'JSON',
      template:
        '{"entity_id": "{{ event.entityId }}", "entity_type": "{{ event.topic }}", "action_type": "{% case event.action %}{% when "created" %}new{% when "updated" %}update{% else %}{{ event.action | replace: "deleted", "delete" }}{% endcase %}"{% if data %}, "result": {{ data }}{% endif %}}',
    };
    const render = async (action: string, data: object | null) =>
      JSON.parse((await t.ok(PREVIEW, { webhook, event: { topic: 'user', action, entityId: '1', data } })).previewWebhookPayload.body);
    expect(await render('created', { name_first: 'Guan' })).toEqual({ entity_id: '1', entity_type: 'user', action_type: 'new', result: { name_first: 'Guan' } });
    expect(await render('updated', { name_first: 'Guan' })).toMatchObject({ action_type: 'update' });
    expect(await render('deleted', null)).toEqual({ entity_id: '1', entity_type: 'user', action_type: 'delete' });
  });

  it('GET sends the payload in the query string, DELETE the id', async () => {
    const get = (
      await t.ok(PREVIEW, {
        webhook: { label: 'g', events: ['delegate.created'], url: 'https://x.example/h?source=lms', method: 'GET', payloadMode: 'SELECTED_FIELDS', selectedFields: ['status'] },
        event: newDelegate({ status: 'Booked' }),
      })
    ).previewWebhookPayload;
    expect(get.body).toBe('');
    const url = new URL(get.url);
    expect([url.searchParams.get('source'), url.searchParams.get('entityId'), url.searchParams.get('data.status')]).toEqual(['lms', '1001', 'Booked']);
    const del = (
      await t.ok(PREVIEW, {
        webhook: { label: 'd', events: ['delegate.deleted'], url: 'https://x.example/h', method: 'DELETE', payloadMode: 'ID_ONLY' },
        event: { topic: 'delegate', action: 'deleted', entityId: '77' },
      })
    ).previewWebhookPayload;
    expect(new URL(del.url).searchParams.get('id')).toBe('77');
    expect(JSON.parse(del.body)).not.toHaveProperty('data');
  });

  it('shows a template that cannot render for this event instead of failing', async () => {
    const p = (
      await t.ok(PREVIEW, {
        webhook: { label: 'j', events: ['delegate.created'], url: 'https://x.example/h', payloadMode: 'CUSTOM', templateFormat: 'JSON', template: '{"name": @@CandidateForename}' },
        event: newDelegate({ forename: 'Ada' }),
      })
    ).previewWebhookPayload;
    expect(p).toMatchObject({ wouldSend: false, body: null });
    expect(p.renderError).toContain('the template rendered invalid JSON');
  });

  it('refuses a sample event of an unknown topic or action, or data that is not an object', async () => {
    const webhook = { label: 'x', events: ['delegate.created'], url: 'https://x.example/h' };
    const cases: Array<[object, string, RegExp]> = [
      [{ topic: 'invoice', action: 'created', entityId: '1', data: {} }, 'event.topic', /unknown topic "invoice"/],
      [{ topic: 'delegate', action: 'paid', entityId: '1', data: {} }, 'event.action', /has no action "paid"; its actions: created, updated, deleted/],
      [{ topic: 'delegate', action: 'created', entityId: '1', data: [1, 2] }, 'event.data', /must be a JSON object/],
      [{ topic: 'delegate', action: 'created', entityId: '1' }, 'event.data', /is required/],
    ];
    for (const [event, field, message] of cases) {
      const error = errorOf(await t.gql(PREVIEW, { webhook, event }), 'BAD_USER_INPUT');
      expect(error.extensions?.field).toBe(field);
      expect(error.message).toMatch(message);
    }
    const both = errorOf(await t.gql(PREVIEW, { event: newDelegate({}) }), 'BAD_USER_INPUT');
    expect(both.message).toContain('exactly one of `webhookId`');
    const invalid = errorOf(await t.gql(PREVIEW, { webhook: { ...webhook, url: 'nope' }, event: newDelegate({}) }), 'BAD_USER_INPUT');
    expect(invalid.extensions?.field).toBe('webhook.url');
  });
});
