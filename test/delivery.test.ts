import pg from 'pg';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorOf, startTestApp, type TestApp } from './support/app.ts';
import { setUpTopics } from './support/fixtures.ts';
import { runSql } from './support/database.ts';
import { eventually, Receiver } from './support/receiver.ts';
import { claim } from '../src/store/instances.ts';
import { laneOf } from '../src/queue/boss.ts';

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { id } } }`;
const PUBLISH = `mutation($input: PublishEventInput!) { publishEvent(input: $input) { duplicate event { id } instances { id status webhook { id } } } }`;
const INSTANCE = `query($id: ID!) { instance(id: $id) { id status attempts lastStatusCode lastMessage lastErrorKind nextAttemptAt request
  attemptLog { number trigger statusCode errorKind message responseBody location durationMs } } }`;

const delegate = (entityId: string, data: object = { type: 'Delegate', status: 'Booked', forename: 'Ada' }) => ({ topic: 'delegate', action: 'created', entityId, data });

describe('delivering events to webhooks over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ HERALD_OUTBOUND_ALLOW: '127.0.0.0/8,::1/128', HERALD_MIN_BACKOFF_MS: '20', HERALD_DEACTIVATE_AFTER_FAILURES: '3' });
    await setUpTopics(t);
  });

  async function hook(url: string, extra: object = {}) {
    return (await t.ok(CREATE, { input: { label: `hook ${Math.random()}`, events: ['delegate.created'], url, active: true, backoffBaseMs: 20, backoffCapMs: 100, ...extra } })).createWebhook;
  }
  const publish = async (event: object, idempotencyKey?: string) => (await t.ok(PUBLISH, { input: { event, idempotencyKey } })).publishEvent;
  /** Publishes and answers the instance of one webhook (others may match the same event). */
  const publishTo = async (webhookId: string, event: object) =>
    (await publish(event)).instances.find((i: any) => i.webhook.id === webhookId);
  const instance = async (id: string) => (await t.ok(INSTANCE, { id })).instance;
  /** Runs one statement on the test's database, straight (not through Herald). */
  const sql = (text: string, values: unknown[]) => runSql(t.databaseUrl, text, values);
  /** The instance's row as stored. */
  const stored = async (id: string) => (await sql('SELECT request, payload FROM instance WHERE id = $1', [id]))[0];
  const settled = async (id: string, statuses = ['COMPLETED', 'FAILED']) => {
    let last: unknown;
    try {
      return await eventually(async () => {
        const i = (last = await instance(id));
        return statuses.includes(i.status) ? i : undefined;
      }, 20_000, `instance ${id} to be ${statuses.join(' or ')}`);
    } catch (error) {
      throw new Error(`${(error as Error).message}; last seen ${JSON.stringify(last)}`);
    }
  };

  it('delivers on the first try, signed so that a Standard Webhooks library verifies it', async () => {
    const receiver = await Receiver.start(() => ({ status: 200, body: 'Your request was successful' }));
    const { secret, webhook } = await hook(`${receiver.url}/hooks`, { headers: [{ name: 'X-Tenant', value: 'acme' }] });
    const published = await publish(delegate('1'));
    expect(published.instances).toHaveLength(1);
    expect(published.instances[0].status).toBe('PENDING');
    expect(published.instances[0].webhook.id).toBe(webhook.id);
    const done = await settled(published.instances[0].id);
    expect(done).toMatchObject({ status: 'COMPLETED', attempts: 1, lastStatusCode: 200, lastMessage: '200 Your request was successful' });
    expect(done.attemptLog).toMatchObject([{ number: 1, trigger: 'AUTO', statusCode: 200, errorKind: null, responseBody: 'Your request was successful' }]);
    const [request] = receiver.received;
    expect(request!.method).toBe('POST');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['user-agent']).toMatch(/^Herald\//);
    expect(request!.headers['x-tenant']).toBe('acme');
    expect(request!.headers['webhook-id']).toBe(done.id);
    const body = new StandardWebhook(secret).verify(request!.body, request!.headers as Record<string, string>);
    expect(body).toMatchObject({ type: 'delegate.created', entityId: '1', data: { status: 'Booked' } });
    expect(done.request).toMatchObject({ method: 'POST', url: `${receiver.url}/hooks`, body: request!.body });
    // The request shown is the one sent, header for header.
    expect(done.request.headers.map((h: any) => h.name)).toEqual(['content-type', 'user-agent', 'webhook-id', 'webhook-timestamp', 'webhook-signature', 'x-tenant']);
    for (const h of done.request.headers) expect([h.name, request!.headers[h.name]]).toEqual([h.name, h.value]);
    // Kept once: method, url, body and content type in the payload, webhook-id the instance's id; the request keeps the rest.
    const row = await stored(done.id);
    expect(row.request).toEqual({ headers: done.request.headers.map((h: any) => (['content-type', 'webhook-id'].includes(h.name) ? [h.name] : [h.name, h.value])) });
    expect(row.payload.body).toBe(request!.body);
  });

  it('keeps a body that several webhooks of an event send once, with the event, and sends and shows it whole', async () => {
    const receiver = await Receiver.start(() => ({ status: 200 }));
    const same = [];
    for (let i = 0; i < 3; i += 1) same.push((await hook(`${receiver.url}/same${i}`, { events: ['delegate.deleted'] })).webhook);
    const own = (await hook(`${receiver.url}/own`, { events: ['delegate.deleted'], payloadMode: 'CUSTOM', templateFormat: 'JSON', template: '{"gone": "{{ event.entityId }}"}' })).webhook;
    const published = await publish({ ...delegate('shared'), action: 'deleted' });
    expect(published.instances).toHaveLength(4);
    for (const i of published.instances) await settled(i.id);
    const event = (await sql('SELECT shared_body FROM event WHERE id = $1', [published.event.id]))[0];
    const byPath = Object.fromEntries(receiver.received.map((r) => [new URL(r.url, 'http://x').pathname, r.body]));
    // The three default envelopes are one body, kept with the event; the template's is its own.
    expect(event.shared_body).toBe(byPath['/same0']);
    expect([byPath['/same1'], byPath['/same2']]).toEqual([event.shared_body, event.shared_body]);
    expect(JSON.parse(byPath['/own']!)).toEqual({ gone: 'shared' });
    for (const i of published.instances) {
      const row = await stored(i.id);
      const mine = i.webhook.id === own.id;
      expect(row.payload.body).toBe(mine ? byPath['/own'] : undefined);
      const shown = (await t.ok('query($id: ID!) { instance(id: $id) { payload request } }', { id: i.id })).instance;
      expect(shown.payload.body).toBe(mine ? byPath['/own'] : event.shared_body);
      expect(shown.request.body).toBe(shown.payload.body);
    }
    expect(same.map((w) => w.id).sort()).toEqual(published.instances.filter((i: any) => i.webhook.id !== own.id).map((i: any) => i.webhook.id).sort());
  });

  it('shows a request recorded as earlier versions recorded it (whole, with its body)', async () => {
    const receiver = await Receiver.start(() => ({ status: 200 }));
    const { webhook } = await hook(receiver.url);
    const done = await settled((await publishTo(webhook.id, delegate('old'))).id);
    const earlier = { method: 'POST', url: 'http://127.0.0.1:1/then', headers: [{ name: 'webhook-id', value: 'msg_then' }], body: 'as it was' };
    await sql(`UPDATE instance SET request = $2::jsonb WHERE id = $1`, [done.id, JSON.stringify(earlier)]);
    expect((await instance(done.id)).request).toEqual(earlier);
    const { body: _body, ...withoutBody } = earlier;
    await sql(`UPDATE instance SET request = $2::jsonb WHERE id = $1`, [done.id, JSON.stringify(withoutBody)]);
    expect((await instance(done.id)).request).toEqual({ ...withoutBody, body: (await t.ok('query($id: ID!) { instance(id: $id) { payload } }', { id: done.id })).instance.payload.body });
  });

  it('500 then 200: two attempts, COMPLETED, with the same webhook-id', async () => {
    const receiver = await Receiver.start((_r, i) => (i === 0 ? { status: 500, body: 'boom' } : { status: 200 }));
    const { webhook } = await hook(receiver.url);
    const done = await settled((await publishTo(webhook.id, delegate('2'))).id);
    expect(done).toMatchObject({ status: 'COMPLETED', attempts: 2 });
    expect(done.attemptLog.map((a: any) => [a.number, a.statusCode, a.errorKind])).toEqual([[1, 500, 'HTTP_STATUS'], [2, 200, null]]);
    expect(receiver.received[0]!.headers['webhook-id']).toBe(receiver.received[1]!.headers['webhook-id']);
  });

  it('always 500: FAILED after max attempts; a re-trigger past the limit succeeds as attempt 4 (MANUAL)', async () => {
    let healthy = false;
    const receiver = await Receiver.start(() => (healthy ? { status: 200 } : { status: 500, body: 'down' }));
    const { webhook } = await hook(receiver.url, { maxAttempts: 3 });
    const failed = await settled((await publishTo(webhook.id, delegate('3'))).id);
    expect(failed).toMatchObject({ status: 'FAILED', attempts: 3, lastStatusCode: 500, lastMessage: '500 down' });
    healthy = true;
    await t.ok('mutation($id: ID!) { retriggerInstance(id: $id) { id } }', { id: failed.id });
    const done = await settled(failed.id, ['COMPLETED']);
    expect(done.attempts).toBe(4);
    expect(done.attemptLog.at(-1)).toMatchObject({ number: 4, trigger: 'MANUAL', statusCode: 200 });
    expect(receiver.received).toHaveLength(4);
  });

  it('records a timeout, a refused connection and a redirect, each with its kind', async () => {
    const slow = await Receiver.start(() => ({ status: 200, delayMs: 3000 }));
    const redirect = await Receiver.start(() => ({ status: 302, headers: { location: 'https://elsewhere.example/x' } }));
    const closed = await Receiver.start();
    const closedUrl = closed.url;
    await closed.close();
    const cases: Array<[string, string, object]> = [
      [slow.url, 'TIMEOUT', { timeoutMs: 1000 }],
      [closedUrl, 'CONNECTION_REFUSED', {}],
      [redirect.url, 'REDIRECT', {}],
    ];
    for (const [url, kind, extra] of cases) {
      await hook(url, { maxAttempts: 1, ...extra, events: ['user.created'] });
      const { instances } = await publish({ topic: 'user', action: 'created', entityId: kind, data: {} });
      const failed = await settled(instances[0].id);
      await t.ok('mutation($id: ID!) { setWebhookActive(id: $id, active: false) { id } }', { id: (await t.ok('query($id: ID!) { instance(id: $id) { webhook { id } } }', { id: failed.id })).instance.webhook.id });
      expect(failed.status).toBe('FAILED');
      expect(failed.attemptLog[0].errorKind).toBe(kind);
      if (kind === 'TIMEOUT') expect(failed.lastMessage).toBe('no answer within 1000 ms');
      if (kind === 'REDIRECT') {
        expect(failed.attemptLog[0]).toMatchObject({ statusCode: 302, location: 'https://elsewhere.example/x' });
        expect(failed.lastMessage).toBe('redirect to https://elsewhere.example/x not followed');
      }
    }
  });

  it('GET sends the payload in the query string, signed; DELETE the id', async () => {
    const receiver = await Receiver.start();
    const { secret } = await hook(`${receiver.url}/get?source=lms`, { events: ['enrollment.completed'], method: 'GET' });
    await hook(`${receiver.url}/delete/{id}`, { events: ['enrollment.deleted'], method: 'DELETE', payloadMode: 'ID_ONLY' });
    await publish({ topic: 'enrollment', action: 'completed', entityId: 'e1', data: { score: 90 } });
    await publish({ topic: 'enrollment', action: 'deleted', entityId: 'e1' });
    await receiver.waitFor(2);
    const get = receiver.received.find((r) => r.method === 'GET')!;
    expect(get.body).toBe('');
    const query = new URL(get.url, receiver.url).searchParams;
    expect([query.get('type'), query.get('entityId'), query.get('data.score')]).toEqual(['enrollment.completed', 'e1', '90']);
    // The signature covers the query string as received: a Standard Webhooks library verifies it in place of a body…
    const raw = get.url.slice(get.url.indexOf('?') + 1);
    expect(() => new StandardWebhook(secret).verify(raw, get.headers as Record<string, string>, { jsonParse: false })).not.toThrow();
    // …and any change to it fails.
    expect(() => new StandardWebhook(secret).verify(raw.replace('score=90', 'score=99'), get.headers as Record<string, string>, { jsonParse: false })).toThrow(/No matching signature/);
    expect(() => new StandardWebhook(secret).verify('', get.headers as Record<string, string>, { jsonParse: false })).toThrow(/No matching signature/);
    const del = receiver.received.find((r) => r.method === 'DELETE')!;
    expect(del.url).toBe('/delete/e1?id=e1');
  });

  it('the same idempotency key twice: one event, one delivery per webhook', async () => {
    const receiver = await Receiver.start();
    await hook(receiver.url, { events: ['user.updated'] });
    const first = await publish({ topic: 'user', action: 'updated', entityId: 'u1', data: { name: 'A' } }, 'key-1');
    const second = await publish({ topic: 'user', action: 'updated', entityId: 'u1', data: { name: 'B' } }, 'key-1');
    expect(second).toMatchObject({ duplicate: true, event: { id: first.event.id } });
    expect(second.instances.map((i: any) => i.id)).toEqual(first.instances.map((i: any) => i.id));
    await settled(first.instances[0].id);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.received).toHaveLength(1);
  });

  it('conditions hold over the wire: a Trainer is not sent, a Delegate is', async () => {
    const receiver = await Receiver.start();
    await hook(receiver.url, { events: ['delegate.updated'], conditions: [{ rule: { path: 'data.type', operator: 'EQUALS', values: ['Delegate'] } }] });
    const trainer = await publish({ topic: 'delegate', action: 'updated', entityId: 't', data: { type: 'Trainer' } });
    expect(trainer.instances).toEqual([]);
    const person = await publish({ topic: 'delegate', action: 'updated', entityId: 'd', data: { type: 'Delegate' } });
    await settled(person.instances[0].id);
    expect(receiver.received.map((r) => JSON.parse(r.body).entityId)).toEqual(['d']);
  });

  it('410 Gone fails the delivery and pauses the webhook at once, with the reason on it', async () => {
    const receiver = await Receiver.start(() => ({ status: 410 }));
    const { webhook } = await hook(receiver.url, { events: ['user.deleted'] });
    const { instances } = await publish({ topic: 'user', action: 'deleted', entityId: 'gone' });
    expect(await settled(instances[0].id)).toMatchObject({ status: 'FAILED', attempts: 1 });
    const after = (await t.ok('query($id: ID!) { webhook(id: $id) { active state deactivatedReason } }', { id: webhook.id })).webhook;
    expect(after).toMatchObject({ active: false, state: 'PAUSED' });
    expect(after.deactivatedReason).toMatch(/^the receiver answered 410 Gone/);
    await t.ok('mutation($id: ID!) { setWebhookActive(id: $id, active: false) { id } }', { id: webhook.id });
  });

  it('a webhook whose deliveries keep failing is paused after exactly N failed instances in a row, holding them and what follows, and resuming sends them all', async () => {
    let healthy = false;
    const receiver = await Receiver.start(() => (healthy ? { status: 200 } : { status: 500, body: 'still broken' }));
    const { webhook } = await hook(receiver.url, { events: ['enrollment.updated'], maxAttempts: 1 });
    // Five at once: the whole group fails together, yet the count stops at the threshold (3).
    const { publishEvents } = await t.ok('mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { instances { id } } }', {
      inputs: Array.from({ length: 5 }, (_, i) => ({ event: { topic: 'enrollment', action: 'updated', entityId: `f${i}`, data: {} } })),
    });
    const ids: string[] = publishEvents.map((p: any) => p.instances[0].id);
    for (const id of ids) await settled(id, ['PAUSED']);
    const after = (await t.ok('query($id: ID!) { webhook(id: $id) { active state pausedAt deactivatedReason heldDeliveries } }', { id: webhook.id })).webhook;
    expect(after).toMatchObject({ active: false, state: 'PAUSED', deactivatedReason: '3 deliveries in a row failed (the last: 500 still broken)', heldDeliveries: 5 });
    expect(after.pausedAt).not.toBeNull();
    // Events published while paused are kept for it, not dropped.
    const later = await publishTo(webhook.id, { topic: 'enrollment', action: 'updated', entityId: 'after', data: {} });
    expect(later.status).toBe('PAUSED');
    const sentBefore = receiver.received.length;
    healthy = true;
    const resumed = await t.ok('mutation($id: ID!) { resumeWebhook(id: $id) { state active deactivatedReason consecutiveFailures } }', { id: webhook.id });
    expect(resumed.resumeWebhook).toEqual({ state: 'ACTIVE', active: true, deactivatedReason: null, consecutiveFailures: 0 });
    for (const id of [...ids, later.id]) expect((await settled(id, ['COMPLETED'])).status).toBe('COMPLETED');
    const delivered = receiver.received.slice(sentBefore).map((r) => JSON.parse(r.body).entityId);
    expect(delivered.sort()).toEqual(['after', 'f0', 'f1', 'f2', 'f3', 'f4']);
    await t.ok('mutation($id: ID!) { setWebhookActive(id: $id, active: false) { id } }', { id: webhook.id });
  });

  it('lists instances newest first by webhook and status, and re-triggers failed ones in bulk, counting them first', async () => {
    let healthy = false;
    const receiver = await Receiver.start(() => ({ status: healthy ? 200 : 500 }));
    const { webhook } = await hook(receiver.url, { events: ['user.created'], maxAttempts: 1 });
    const ids: string[] = [];
    // Two: a third failure in a row would pause the webhook (HERALD_DEACTIVATE_AFTER_FAILURES is 3 here).
    for (let i = 0; i < 2; i += 1) ids.push((await publishTo(webhook.id, { topic: 'user', action: 'created', entityId: `b${i}`, data: {} })).id);
    for (const id of ids) await settled(id);
    const listed = await t.ok('query($w: ID!) { instances(filter: { webhookId: $w, statuses: [FAILED] }) { edges { node { id entityId } } } }', { w: webhook.id });
    expect(listed.instances.edges.map((e: any) => e.node.id)).toEqual([...ids].reverse());
    healthy = true;
    // A dry run counts what would go (here: since the second one) and sends nothing.
    const sentBefore = receiver.received.length;
    const since = (await t.ok('query($id: ID!) { instance(id: $id) { createdAt } }', { id: ids[1] })).instance.createdAt;
    const dry = await t.ok('mutation($w: ID!, $since: DateTime) { retriggerInstances(filter: { webhookId: $w, since: $since }, dryRun: true) }', { w: webhook.id, since });
    expect(dry.retriggerInstances).toBe(1);
    expect((await t.ok('mutation($w: ID!) { retriggerInstances(filter: { webhookId: $w }, dryRun: true) }', { w: webhook.id })).retriggerInstances).toBe(2);
    expect(receiver.received.length).toBe(sentBefore);
    for (const id of ids) expect((await settled(id)).status).toBe('FAILED');
    const count = await t.ok('mutation($w: ID!) { retriggerInstances(filter: { webhookId: $w }) }', { w: webhook.id });
    expect(count.retriggerInstances).toBe(2);
    for (const id of ids) expect((await settled(id, ['COMPLETED'])).attempts).toBe(2);
  });

  it("filters deliveries by event type (topic.action), the Test button's as topic.test, for the list and a bulk re-trigger; a type not shaped topic.action is refused", async () => {
    const receiver = await Receiver.start(() => ({ status: 200 }));
    const { webhook } = await hook(receiver.url, { events: ['enrollment.completed', 'enrollment.deleted'] });
    const completed = (await publishTo(webhook.id, { topic: 'enrollment', action: 'completed', entityId: 'ty1', data: { score: 1 } })).id;
    const deleted = (await publishTo(webhook.id, { topic: 'enrollment', action: 'deleted', entityId: 'ty2' })).id;
    for (const id of [completed, deleted]) await settled(id);
    const byType = async (eventType: string) =>
      (await t.ok('query($w: ID!, $type: String) { instances(filter: { webhookId: $w, eventType: $type }) { edges { node { id event { type } } } } }', { w: webhook.id, type: eventType })).instances.edges.map((e: any) => e.node);
    expect(await byType('enrollment.deleted')).toEqual([{ id: deleted, event: { type: 'enrollment.deleted' } }]);
    expect(await byType('enrollment.completed')).toEqual([{ id: completed, event: { type: 'enrollment.completed' } }]);
    expect(await byType('enrollment.created')).toEqual([]);
    // Without a webhook: the tenant's deliveries of the type.
    expect((await t.ok('query { instances(filter: { eventType: "enrollment.deleted" }) { edges { node { id } } } }')).instances.edges.map((e: any) => e.node.id)).toContain(deleted);
    // The Test button's delivery is of type topic.test.
    expect((await t.ok('mutation($id: ID!) { testWebhook(webhookId: $id) { success } }', { id: webhook.id })).testWebhook.success).toBe(true);
    expect((await byType('enrollment.test')).map((n: any) => n.event.type)).toEqual(['enrollment.test']);
    // A bulk re-trigger by type counts only that type.
    expect((await t.ok('mutation($w: ID!) { retriggerInstances(filter: { webhookId: $w, statuses: [COMPLETED], eventType: "enrollment.deleted" }, dryRun: true) }', { w: webhook.id })).retriggerInstances).toBe(1);
    for (const hostile of ['enrollment', 'Enrollment.Deleted', 'a.b.c', "x'; DROP TABLE instance; --", 'e'.repeat(5000)]) {
      const error = errorOf(await t.gql('query($type: String) { instances(filter: { eventType: $type }) { edges { node { id } } } }', { type: hostile }), 'BAD_USER_INPUT');
      expect(error.extensions!.problems).toEqual([expect.objectContaining({ field: 'filter.eventType', message: expect.stringContaining('topic.action, such as course.created') })]);
    }
  });

  it('cancels a RETRYING instance, and deactivating a webhook cancels what it has pending', async () => {
    const receiver = await Receiver.start(() => ({ status: 503, headers: { 'retry-after': '60' } }));
    const { webhook } = await hook(receiver.url, { events: ['user.created'], maxAttempts: 5 });
    const a = (await publishTo(webhook.id, { topic: 'user', action: 'created', entityId: 'c1', data: {} })).id;
    const b = (await publishTo(webhook.id, { topic: 'user', action: 'created', entityId: 'c2', data: {} })).id;
    const retrying = await settled(a, ['RETRYING']);
    expect(new Date(retrying.nextAttemptAt).getTime()).toBeGreaterThan(Date.now() + 50_000); // Retry-After: 60 honoured
    const cancelled = await t.ok('mutation($id: ID!) { cancelInstance(id: $id) { status } }', { id: a });
    expect(cancelled.cancelInstance.status).toBe('CANCELLED');
    await settled(b, ['RETRYING']);
    await t.ok('mutation($id: ID!) { setWebhookActive(id: $id, active: false) { active } }', { id: webhook.id });
    expect((await instance(b)).status).toBe('CANCELLED');
  });

  describe('publishing', () => {
    it('refuses unknown topics and actions, data that is not an object, and events over the size limit', async () => {
      const cases: Array<[object, string, RegExp]> = [
        [{ topic: 'invoice', action: 'created', entityId: '1', data: {} }, 'input.event.topic', /unknown topic "invoice"/],
        [{ topic: 'user', action: 'paid', entityId: '1', data: {} }, 'input.event.action', /no action "paid"/],
        [{ topic: 'user', action: 'created', entityId: '1', data: 'text' }, 'input.event.data', /must be a JSON object/],
        [{ topic: 'user', action: 'created', entityId: '1', data: { blob: 'x'.repeat(300_000) } }, 'input.event.data', /at most 262144 are allowed/],
      ];
      for (const [event, field, message] of cases) {
        const before = (await t.ok('{ events(first: 1) { edges { node { id } } } }')).events;
        const error = errorOf(await t.gql(PUBLISH, { input: { event } }), 'BAD_USER_INPUT');
        expect(error.extensions?.field).toBe(field);
        expect(error.message).toMatch(message);
        expect((await t.ok('{ events(first: 1) { edges { node { id } } } }')).events).toEqual(before);
      }
    });

    it('a PUBLISHER may publish; a VIEWER may not', async () => {
      const key = async (role: string) => (await t.ok('mutation($r: Role!) { createApiKey(input: { name: "k", role: $r }) { key } }', { r: role })).createApiKey.key;
      const event = { topic: 'user', action: 'updated', entityId: 'p', data: {} };
      expect((await t.ok(PUBLISH, { input: { event } }, await key('PUBLISHER'))).publishEvent.event.id).toBeDefined();
      errorOf(await t.gql(PUBLISH, { input: { event } }, await key('VIEWER')), 'FORBIDDEN');
    });

    it('publishEvents takes many at once, in order', async () => {
      const inputs = Array.from({ length: 25 }, (_, i) => ({ event: { topic: 'user', action: 'updated', entityId: `m${i}`, data: { i } } }));
      const result = await t.ok('mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { event { entityId } } }', { inputs });
      expect(result.publishEvents.map((r: any) => r.event.entityId)).toEqual(inputs.map((i) => i.event.entityId));
    });
  });

  it('a receiver that is down for a while gets everything once it is back', async () => {
    const receiver = await Receiver.start();
    const port = new URL(receiver.url).port;
    await receiver.close();
    const { webhook } = await hook(receiver.url, { events: ['enrollment.updated'], maxAttempts: 30, backoffBaseMs: 50, backoffCapMs: 400 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) ids.push((await publishTo(webhook.id, { topic: 'enrollment', action: 'updated', entityId: `down${i}`, data: { i } })).id);
    await eventually(async () => (await instance(ids[0]!)).attempts >= 2, 10_000, 'a failed attempt while down');
    const back = await Receiver.startOn(Number(port));
    for (const id of ids) expect((await settled(id, ['COMPLETED'])).lastErrorKind).toBeNull();
    expect(new Set(back.received.map((r) => JSON.parse(r.body).entityId))).toEqual(new Set(ids.map((_, i) => `down${i}`)));
    const first = await instance(ids[0]!);
    expect(first.attemptLog[0].errorKind).toBe('CONNECTION_REFUSED');
  });

  it('the Test button: one request now with action test and catalog sample data, logged as a TEST attempt', async () => {
    // A topic nothing was published to yet: the sample comes from its catalog.
    await t.ok('mutation { createTopic(input: { key: "cohort", name: "Cohort", fields: [{ path: "type", label: "Type", type: ENUM, values: ["Delegate"] }, { path: "status", label: "Status", type: ENUM, values: ["Booked"] }, { path: "score", label: "Score", type: NUMBER }] }) { key } }');
    const receiver = await Receiver.start(() => ({ status: 202, body: 'Thanks, got it' }));
    const { webhook } = await hook(receiver.url, { payloadMode: 'FULL', events: ['cohort.created'] });
    const result = (
      await t.ok('mutation($id: ID!) { testWebhook(webhookId: $id) { success statusCode response message durationMs instanceId request { method url body headers { name value } } } }', { id: webhook.id })
    ).testWebhook;
    expect(result).toMatchObject({ success: true, statusCode: 202, response: 'Thanks, got it', request: { method: 'POST', url: `${receiver.url}/` } });
    const sent = JSON.parse(receiver.received[0]!.body);
    expect(sent).toMatchObject({ type: 'cohort.test', action: 'test', entityId: 'sample-1', data: { type: 'Delegate', status: 'Booked', score: 1.5 } });
    const logged = await instance(result.instanceId);
    expect(logged).toMatchObject({ status: 'COMPLETED', attempts: 1, attemptLog: [{ trigger: 'TEST', statusCode: 202 }] });
    expect(logged.request).toEqual(result.request);
    expect(logged.request.body).toBe(receiver.received[0]!.body);
    expect((await stored(result.instanceId)).request.body).toBeUndefined();
    const failing = await Receiver.start(() => ({ status: 400, body: 'Bad payload: missing field x' }));
    const unsaved = (
      await t.ok('mutation($w: CreateWebhookInput!) { testWebhook(webhook: $w) { success statusCode response instanceId } }', { w: { label: 'try', events: ['user.created'], url: failing.url } })
    ).testWebhook;
    expect(unsaved).toEqual({ success: false, statusCode: 400, response: 'Bad payload: missing field x', instanceId: null });
  });

  it("the Test button sends the tenant's latest real event of the topic, else a catalog sample with an id of the topic's kind, and says which", async () => {
    await t.ok('mutation { createTopic(input: { key: "invoice", name: "Invoice", entityIdType: INTEGER, fields: [{ path: "total", label: "Total", type: NUMBER }] }) { entityIdType } }');
    const receiver = await Receiver.start(() => ({ status: 200 }));
    // Evins' own template: the id written as a number.
    const { webhook } = await hook(receiver.url, { events: ['invoice.created'], payloadMode: 'CUSTOM', templateFormat: 'JSON', template: '{"entity_id": {{ event.entityId }}, "total": {{ data.total }}}' });
    const TEST = 'mutation($id: ID!) { testWebhook(webhookId: $id) { success message sample { kind eventId description } } }';
    const first = (await t.ok(TEST, { id: webhook.id })).testWebhook;
    expect(first).toMatchObject({ success: true, sample: { kind: 'CATALOG', eventId: null } });
    expect(first.sample.description).toContain('a sample made from the invoice catalog (entity id 1)');
    expect(JSON.parse(receiver.received.at(-1)!.body)).toEqual({ entity_id: 1, total: 1.5 });

    // Ids of another kind are refused at publish, naming the field.
    const bad = errorOf(await t.gql('mutation { publishEvent(input: { event: { topic: "invoice", action: "created", entityId: "INV-7", data: { total: 3 } } }) { event { id } } }'), 'BAD_USER_INPUT');
    expect(bad.extensions!.problems).toEqual([{ field: 'input.event.entityId', message: 'must be a whole number (topic entity ids are INTEGER), got "INV-7"' }]);
    const published = (await t.ok('mutation { publishEvent(input: { event: { topic: "invoice", action: "created", entityId: "1234", data: { total: 99.5 } } }) { event { id } } }')).publishEvent.event.id;
    const second = (await t.ok(TEST, { id: webhook.id })).testWebhook;
    expect(second.sample).toMatchObject({ kind: 'LATEST_EVENT', eventId: published });
    expect(second.sample.description).toMatch(/^your latest invoice.created event \(entity 1234, /);
    expect(JSON.parse(receiver.received.at(-1)!.body)).toEqual({ entity_id: 1234, total: 99.5 });
    const sample = (await t.ok('{ testSample(eventTypes: ["invoice.created"]) { kind eventId event { topic action entityId data } } }')).testSample;
    expect(sample).toEqual({ kind: 'LATEST_EVENT', eventId: published, event: { topic: 'invoice', action: 'test', entityId: '1234', data: { total: 99.5 } } });
    await t.ok('mutation($id: ID!) { setWebhookActive(id: $id, active: false) { id } }', { id: webhook.id });
  });

  it("a webhook's stats count its instances by status", async () => {
    const receiver = await Receiver.start((_r, i) => ({ status: i % 2 === 0 ? 200 : 500 }));
    const { webhook } = await hook(receiver.url, { events: ['user.created'], maxAttempts: 1 });
    for (let i = 0; i < 4; i += 1) await settled((await publishTo(webhook.id, { topic: 'user', action: 'created', entityId: `s${i}`, data: {} })).id);
    const stats = (await t.ok('query($id: ID!) { webhook(id: $id) { stats { total successRate lastDeliveryAt byStatus { status count } } } }', { id: webhook.id })).webhook.stats;
    expect(stats.total).toBe(4);
    expect(stats.successRate).toBe(0.5);
    expect(stats.byStatus.filter((s: any) => s.count > 0)).toEqual([{ status: 'COMPLETED', count: 2 }, { status: 'FAILED', count: 2 }]);
  });

  it('payload modes over the wire: an XML custom template, and the id with modified fields', async () => {
    const receiver = await Receiver.start();
    await hook(`${receiver.url}/xml`, {
      events: ['delegate.updated'],
      payloadMode: 'CUSTOM',
      templateFormat: 'XML',
      template: '<Delegate id="@@EntityId"><Name>@@CandidateForename</Name><Status>{{ data.status }}</Status></Delegate>',
    });
    await hook(`${receiver.url}/json`, { events: ['delegate.updated'], method: 'PATCH', payloadMode: 'ID_AND_MODIFIED_FIELDS' });
    await publish({ topic: 'delegate', action: 'updated', entityId: 'x1', previous: { forename: 'A & B', status: 'Booked' }, data: { forename: 'A & B', status: 'Completed' } });
    await receiver.waitFor(2);
    const xml = receiver.received.find((r) => r.url === '/xml')!;
    expect(xml.headers['content-type']).toBe('application/xml; charset=utf-8');
    expect(xml.body).toBe('<Delegate id="x1"><Name>A &amp; B</Name><Status>Completed</Status></Delegate>');
    const patch = receiver.received.find((r) => r.url === '/json')!;
    expect(patch.method).toBe('PATCH');
    expect(JSON.parse(patch.body)).toMatchObject({ entityId: 'x1', changedFields: ['status'], data: { status: 'Completed' } });
  });

  it('deleting a webhook cancels its pending deliveries and keeps its history readable', async () => {
    const receiver = await Receiver.start(() => ({ status: 503, headers: { 'retry-after': '60' } }));
    const { webhook } = await hook(receiver.url, { events: ['user.created'] });
    const id = (await publishTo(webhook.id, { topic: 'user', action: 'created', entityId: 'del', data: {} })).id;
    await settled(id, ['RETRYING']);
    await t.ok('mutation($id: ID!) { deleteWebhook(id: $id) { id } }', { id: webhook.id });
    expect(await instance(id)).toMatchObject({ status: 'CANCELLED', attempts: 1 });
  });
  describe('delivery jobs', () => {
    const parcel = (entityId: string) => ({ topic: 'parcel', action: 'created', entityId, data: { weight: 2 } });
    beforeAll(async () => {
      await t.ok('mutation { createTopic(input: { key: "parcel", name: "Parcel" }) { key } }');
    });

    it('a publish packs its deliveries to one webhook into jobs of up to 25, each completed once all of its deliveries are recorded', async () => {
      const receiver = await Receiver.start();
      const { webhook } = await hook(receiver.url, { events: ['parcel.created'] });
      const inputs = Array.from({ length: 60 }, (_, i) => ({ event: parcel(`pack-${i}`) }));
      const published = await t.ok('mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { instances { id } } }', { inputs });
      const ids: string[] = published.publishEvents.flatMap((p: any) => p.instances.map((i: any) => i.id));
      expect(ids).toHaveLength(60);
      await receiver.waitFor(60);
      const db = new pg.Client({ connectionString: t.databaseUrl });
      await db.connect();
      try {
        const jobs = await eventually(async () => {
          const { rows } = await db.query(`SELECT data, state, name FROM pgboss.job WHERE group_id = $1`, [webhook.id]);
          return rows.length && rows.every((r) => r.state === 'completed') ? rows : undefined;
        }, 10_000, 'every job completed');
        expect(jobs.map((j) => j.data.instanceIds.length).sort()).toEqual([10, 25, 25]);
        // In the tenant's lane (queue/boss.ts).
        const [{ tenant_id: tenantId }] = await sql('SELECT tenant_id FROM webhook WHERE id = $1', [webhook.id]);
        expect(new Set(jobs.map((j) => j.name))).toEqual(new Set([laneOf(tenantId)]));
        expect(jobs.flatMap((j) => j.data.instanceIds).sort()).toEqual([...ids].sort());
        const { rows } = await db.query(`SELECT status, attempts, count(*)::int AS n FROM instance WHERE webhook_id = $1 GROUP BY 1, 2`, [webhook.id]);
        expect(rows).toEqual([{ status: 'COMPLETED', attempts: 1, n: 60 }]);
      } finally {
        await db.end();
      }
      expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(60);
    });

    it('a job that runs again never sends past maxAttempts: an instance left SENDING at its last attempt becomes FAILED, saying why', async () => {
      const receiver = await Receiver.start(() => ({ status: 500, body: 'no' }));
      const { webhook } = await hook(receiver.url, { events: ['parcel.created'], maxAttempts: 2, backoffBaseMs: 600_000, backoffCapMs: 600_000 });
      const { id } = await publishTo(webhook.id, parcel('unrecorded'));
      await settled(id, ['RETRYING']);
      // As if attempt 1's outcome had not been recorded: the instance is still SENDING when its job runs again.
      await sql(`UPDATE instance SET status = 'SENDING' WHERE id = $1`, [id]);
      const [again] = (await claim([{ instanceId: id, takeOver: true, retry: false }])).claimed;
      expect(again).toMatchObject({ id, attempts: 2 });
      // Attempt 2 (the last) is not recorded either: no run of the job may send it a third time.
      expect((await claim([{ instanceId: id, takeOver: true, retry: false }])).claimed).toEqual([]);
      expect(await instance(id)).toMatchObject({
        status: 'FAILED',
        attempts: 2,
        lastMessage: 'attempt 2 was sent but its outcome could not be recorded; not sent again, since the webhook allows 2 attempts (re-trigger to send it again)',
      });
    });

    it("a first attempt's job that runs again leaves an instance waiting for its retry alone; the retry's job takes it", async () => {
      const receiver = await Receiver.start(() => ({ status: 500, body: 'not now' }));
      const { webhook } = await hook(receiver.url, { events: ['parcel.created'], backoffBaseMs: 600_000, backoffCapMs: 600_000 });
      const { id } = await publishTo(webhook.id, parcel('retry-later'));
      await settled(id, ['RETRYING']);
      // As the first attempt's job would ask if its worker died after recording this outcome but before its other deliveries.
      expect((await claim([{ instanceId: id, takeOver: true, retry: false }])).claimed).toEqual([]);
      expect(await instance(id)).toMatchObject({ status: 'RETRYING', attempts: 1 });
      const [taken] = (await claim([{ instanceId: id, takeOver: false, retry: true }])).claimed;
      expect(taken).toMatchObject({ id, attempts: 2 });
      expect(await instance(id)).toMatchObject({ status: 'SENDING', attempts: 2 });
    });
  });

  it('sends no trace context while tracing is off, even to a webhook that asks for it', async () => {
    const receiver = await Receiver.start();
    const { webhook } = await hook(receiver.url, { traceContext: true });
    const done = await settled((await publishTo(webhook.id, delegate('trace-off'))).id);
    expect(done.status).toBe('COMPLETED');
    expect(receiver.received[0]!.headers.traceparent).toBeUndefined();
    expect(receiver.received[0]!.headers.tracestate).toBeUndefined();
  });
});
