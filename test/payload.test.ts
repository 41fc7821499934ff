import { Webhook as StandardWebhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateSecret, sign, signatureHeader } from '../src/rules/signing.ts';
import type { EventShape } from '../src/rules/eventShape.ts';
import { envelope, renderPayload, RenderError, type PayloadSpec, type TopicShape } from '../src/rules/payload.ts';
import { compileTemplate } from '../src/rules/template.ts';

const delegate: TopicShape = {
  key: 'delegate',
  resourceUrlTemplate: 'https://lms.example/api/delegates/{id}',
  mergeTags: [
    { tag: '@@CandidateForename', path: 'forename' },
    { tag: '@@CandidateSurname', path: 'surname' },
    { tag: '@@CourseName', path: 'course.name' },
  ],
};

const created: EventShape = {
  id: 'evt_1',
  topic: 'delegate',
  action: 'created',
  entityId: '42',
  data: { forename: 'Ada', surname: 'Lovelace', status: 'Booked', course: { id: 7, name: 'Maths' } },
  previous: null,
  changedFields: null,
  actor: { type: 'admin', id: '7' },
  clientId: 'client-1',
  correlationId: 'corr-1',
  occurredAt: new Date('2026-11-24T12:00:00Z'),
};

const updated: EventShape = {
  ...created,
  action: 'updated',
  previous: { ...created.data, status: 'Booked', course: { id: 7, name: 'Algebra' } },
  data: { ...created.data, status: 'Completed' },
};

const spec = (overrides: Partial<PayloadSpec>): PayloadSpec => ({
  url: 'https://receiver.example/hooks',
  method: 'POST',
  mode: 'FULL',
  selectedFields: [],
  template: null,
  templateFormat: null,
  ...overrides,
});

describe('the default envelope', () => {
  it('carries the lean event fields of Absorb and the resource URL of Springest', () => {
    expect(envelope(created, delegate, { mode: 'ID_ONLY', selectedFields: [] })).toEqual({
      id: 'evt_1',
      type: 'delegate.created',
      topic: 'delegate',
      action: 'created',
      entityId: '42',
      occurredAt: '2026-11-24T12:00:00.000Z',
      actor: { type: 'admin', id: '7' },
      clientId: 'client-1',
      correlationId: 'corr-1',
      resourceUrl: 'https://lms.example/api/delegates/42',
    });
  });

  it('FULL carries all of data', () => {
    expect(envelope(created, delegate, { mode: 'FULL', selectedFields: [] }).data).toEqual(created.data);
  });

  it('SELECTED_FIELDS carries only the chosen paths, nested as in data', () => {
    const body = envelope(created, delegate, { mode: 'SELECTED_FIELDS', selectedFields: ['forename', 'course.name', 'gone'] });
    expect(body.data).toEqual({ forename: 'Ada', course: { name: 'Maths' }, gone: null });
  });

  it('ID_AND_MODIFIED_FIELDS carries the fields that changed, by deep comparison', () => {
    const body = envelope(updated, delegate, { mode: 'ID_AND_MODIFIED_FIELDS', selectedFields: [] });
    expect(body).toMatchObject({ entityId: '42', changedFields: ['status', 'course.name'], data: { status: 'Completed', course: { name: 'Maths' } } });
  });

  it("ID_AND_MODIFIED_FIELDS uses the host's changed-field list when given", () => {
    const body = envelope({ ...updated, previous: null, changedFields: ['status'] }, delegate, { mode: 'ID_AND_MODIFIED_FIELDS', selectedFields: [] });
    expect(body).toMatchObject({ changedFields: ['status'], data: { status: 'Completed' } });
  });

  it('a delete carries the id and no data, whatever the mode (Evins: no result on delete)', () => {
    const deleted = { ...created, action: 'deleted', data: null };
    expect(envelope(deleted, delegate, { mode: 'FULL', selectedFields: [] })).not.toHaveProperty('data');
    expect(envelope(deleted, delegate, { mode: 'FULL', selectedFields: [] }).entityId).toBe('42');
  });
});

describe('request shapes', () => {
  it('POST sends the JSON envelope', () => {
    const r = renderPayload(spec({}), created, delegate);
    expect(r).toMatchObject({ method: 'POST', url: 'https://receiver.example/hooks', contentType: 'application/json' });
    expect(JSON.parse(r.body).data.forename).toBe('Ada');
  });

  it('GET puts the payload in the query string and sends no body', () => {
    const r = renderPayload(spec({ method: 'GET', mode: 'SELECTED_FIELDS', selectedFields: ['status'] }), created, delegate);
    expect(r.body).toBe('');
    expect(r.contentType).toBeNull();
    const query = new URL(r.url).searchParams;
    expect(query.get('entityId')).toBe('42');
    expect(query.get('type')).toBe('delegate.created');
    expect(query.get('data.status')).toBe('Booked');
  });

  it('DELETE sends the id in the query string', () => {
    const r = renderPayload(spec({ method: 'DELETE', mode: 'ID_ONLY' }), { ...created, action: 'deleted', data: null }, delegate);
    expect(new URL(r.url).searchParams.get('id')).toBe('42');
  });

  it('{id} in the endpoint URL is the entity id, encoded', () => {
    const r = renderPayload(spec({ url: 'https://receiver.example/delegates/{id}', method: 'PUT' }), { ...created, entityId: 'a/b' }, delegate);
    expect(r.url).toBe('https://receiver.example/delegates/a%2Fb');
  });
});

describe('custom templates', () => {
  it('renders an XML template with merge fields and escapes what would break the XML', () => {
    const template = '<delegate id="@@EntityId">\n  <forename>@@CandidateForename</forename>\n  <surname>@@CandidateSurname</surname>\n</delegate>';
    const event = { ...created, data: { ...created.data, forename: 'Ada <b>&"', surname: "O'Brien" } };
    const r = renderPayload(spec({ mode: 'CUSTOM', template, templateFormat: 'XML' }), event, delegate);
    expect(r.contentType).toBe('application/xml; charset=utf-8');
    expect(r.body).toBe(
      '<delegate id="42">\n  <forename>Ada &lt;b&gt;&amp;&quot;</forename>\n  <surname>O&apos;Brien</surname>\n</delegate>',
    );
  });

  it('escapes a " in a JSON template so it cannot break out of its string', () => {
    const template = '{"name": "@@CandidateForename", "course": "{{ data.course.name }}"}';
    const event = { ...created, data: { ...created.data, forename: 'Ada", "admin": true, "x": "' } };
    const r = renderPayload(spec({ mode: 'CUSTOM', template, templateFormat: 'JSON' }), event, delegate);
    expect(JSON.parse(r.body)).toEqual({ name: 'Ada", "admin": true, "x": "', course: 'Maths' });
  });

  it('supports loops and conditionals (Liquid)', () => {
    const template = '{% if event.action == "updated" %}changed:{% for f in changedFields %} {{ f }}{% endfor %}{% endif %}';
    const r = renderPayload(spec({ mode: 'CUSTOM', template, templateFormat: 'TEXT' }), updated, delegate);
    expect(r.body).toBe('changed: status course.name');
  });

  it('form templates are URL-encoded', () => {
    const r = renderPayload(spec({ mode: 'CUSTOM', template: 'name=@@CandidateForename&id=@@EntityId', templateFormat: 'FORM' }), { ...created, data: { forename: 'A&B=C' } }, delegate);
    expect(r.body).toBe('name=A%26B%3DC&id=42');
  });

  it('cannot reach prototypes or run code', () => {
    const template = '{{ data.constructor }}|{{ data.__proto__ }}|{{ data.forename.constructor.name }}';
    const r = renderPayload(spec({ mode: 'CUSTOM', template, templateFormat: 'TEXT' }), created, delegate);
    expect(r.body).toBe('||');
  });

  it('refuses an unknown merge tag with its line and column', () => {
    expect(compileTemplate('<a>\n  <b>@@Nope</b>\n</a>', 'XML', delegate.mergeTags)).toMatchObject({
      line: 2,
      column: 6,
      message: expect.stringContaining('unknown merge tag @@Nope'),
    });
  });

  it('refuses a template that does not parse, with the line and column as written', () => {
    const error = compileTemplate('line one\n@@CandidateForename {% if x %} never closed', 'TEXT', delegate.mergeTags);
    expect(error).toMatchObject({ line: 2, column: 21, message: expect.stringContaining('tag {% if x %} not closed') });
  });

  it('refuses an unknown filter at compile time', () => {
    expect(compileTemplate('{{ data.x | evil }}', 'TEXT', [])).toMatchObject({ line: 1, message: expect.stringContaining('undefined filter: evil') });
  });

  it('a JSON template that renders invalid JSON fails with a clear error', () => {
    expect(() => renderPayload(spec({ mode: 'CUSTOM', template: '{"a": @@CandidateForename}', templateFormat: 'JSON' }), created, delegate)).toThrow(
      RenderError,
    );
  });
});

describe('Standard Webhooks signatures', () => {
  it('verify with the standardwebhooks library', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const body = '{"hello":"world"}';
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(timestamp), 'webhook-signature': sign(secret, 'msg_1', timestamp, body) };
    expect(new StandardWebhook(secret).verify(body, headers)).toEqual({ hello: 'world' });
  });

  it('during a rotation both secrets verify', () => {
    const [oldSecret, newSecret] = [generateSecret(), generateSecret()];
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = { 'webhook-id': 'msg_2', 'webhook-timestamp': String(timestamp), 'webhook-signature': signatureHeader([newSecret, oldSecret], 'msg_2', timestamp, '{}') };
    expect(new StandardWebhook(oldSecret).verify('{}', headers)).toEqual({});
    expect(new StandardWebhook(newSecret).verify('{}', headers)).toEqual({});
  });
});
