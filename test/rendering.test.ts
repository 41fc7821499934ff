import { beforeAll, describe, expect, it } from 'vitest';
import { errorOf, startTestApp, type TestApp } from './support/app.ts';
import { createTestDatabase } from './support/database.ts';
import { graphqlAt, startServerProcess } from './support/process.ts';
import { eventually, Receiver } from './support/receiver.ts';

/** A loop that would run for minutes, in little memory: only the time limit stops it. */
const SLOW = '{% for i in (1..100000) %}{% for j in (1..100000) %}{% endfor %}{% endfor %}';
const CREATE = 'mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }';
const PUBLISH = 'mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { instances { id status webhook { id } } } }';
const INSTANCE = 'query($id: ID!) { instance(id: $id) { status lastErrorKind lastMessage } }';

describe('rendering cannot stall the server', () => {
  let t: TestApp;
  let hostile: string;
  let receiver: Receiver;
  beforeAll(async () => {
    t = await startTestApp({ HERALD_OUTBOUND_ALLOW: '127.0.0.0/8' });
    await t.ok('mutation { createTopic(input: { key: "user", name: "User" }) { key } }');
    receiver = await Receiver.start();
    hostile = (await t.ok(CREATE, { input: { label: 'hostile', events: ['user.created'], url: `${receiver.url}/hostile`, active: true, payloadMode: 'CUSTOM', templateFormat: 'TEXT', template: SLOW } })).createWebhook.webhook.id;
    await t.ok(CREATE, { input: { label: 'plain', events: ['user.created'], url: `${receiver.url}/plain`, active: true } });
  });
  const events = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => ({ event: { topic: 'user', action: 'created', entityId: `${prefix}${i}`, data: { name: 'Ada' } } }));

  it("another client's requests keep answering while events go to a template that loops; those instances end FAILED as RENDER", async () => {
    // Another tenant's client, asking all the time: with rendering on the event loop, no answer could come while a template runs.
    let polling = true;
    const gaps: number[] = [];
    const poller = (async () => {
      let last = performance.now();
      while (polling) {
        await t.ok('{ viewer { role } }');
        // As a client over a socket would, it lets the loop turn between calls (a kept key makes the call itself all promises).
        await new Promise((resolve) => setImmediate(resolve));
        const now = performance.now();
        gaps.push(now - last);
        last = now;
      }
    })();
    const published = (await t.ok(PUBLISH, { inputs: events(10, 'slow') })).publishEvents;
    polling = false;
    await poller;
    const mine = published.flatMap((p: any) => p.instances).filter((i: any) => i.webhook.id === hostile);
    expect(mine).toHaveLength(10);
    for (const instance of mine) {
      expect(instance.status).toBe('FAILED');
      const stored = (await t.ok(INSTANCE, { id: instance.id })).instance;
      expect(stored.lastErrorKind).toBe('RENDER');
      expect(stored.lastMessage).toMatch(/^(the template took longer than 100 ms to render|rendering was stopped: this request's templates may take 2000 ms in all)/);
    }
    // Printed, not asserted (a shared machine): the slowest answer while 10 templates ran.
    console.log(`while 10 templates looped: ${gaps.length} answers, the slowest ${Math.max(...gaps).toFixed(1)} ms`);
    expect(gaps.length).toBeGreaterThan(3);
    // The other webhook's deliveries of the same events go out as usual.
    await receiver.waitFor(10);
    expect(receiver.received.filter((r) => r.url === '/plain')).toHaveLength(10);
  });

  it("one request's renders share one deadline: 50 slow ones stop at it, each failing with why", async () => {
    const published = (await t.ok(PUBLISH, { inputs: events(50, 'budget') })).publishEvents;
    const mine = published.flatMap((p: any) => p.instances).filter((i: any) => i.webhook.id === hostile);
    expect(mine.map((i: any) => i.status)).toEqual(Array(50).fill('FAILED'));
    const messages = await Promise.all(mine.map(async (i: any) => (await t.ok(INSTANCE, { id: i.id })).instance.lastMessage as string));
    expect(messages.filter((m) => m.startsWith('rendering was stopped')).length).toBeGreaterThan(0);
  });

  it('a delivery whose template failed cannot be re-triggered (nothing to send), alone or in bulk, and says why', async () => {
    const failed = (await t.ok('query($w: ID) { instances(first: 1, filter: { webhookId: $w, statuses: [FAILED] }) { edges { node { id } } } }', { w: hostile })).instances.edges[0].node.id;
    const error = errorOf(await t.gql('mutation($id: ID!) { retriggerInstance(id: $id) { status } }', { id: failed }), 'CONFLICT');
    expect(error.message).toMatch(/^this delivery has nothing to send: its payload could not be rendered when its event was published \((the template took longer|rendering was stopped)/);
    expect((await t.ok('mutation($w: ID!) { retriggerInstances(filter: { webhookId: $w }) }', { w: hostile })).retriggerInstances).toBe(0);
    expect((await t.ok(INSTANCE, { id: failed })).instance.status).toBe('FAILED');
    expect(receiver.received.filter((r) => r.url === '/hostile')).toEqual([]);
  });

  it('testWebhook and the preview report such a template as RENDER', async () => {
    const tested = (await t.ok('mutation($id: ID!) { testWebhook(webhookId: $id) { success errorKind message } }', { id: hostile })).testWebhook;
    expect(tested).toMatchObject({ success: false, errorKind: 'RENDER', message: 'the template took longer than 100 ms to render (a loop that runs too long?)' });
    const preview = (await t.ok('query($id: ID, $e: EventInput!) { previewWebhookPayload(webhookId: $id, event: $e) { wouldSend renderError } }', { id: hostile, e: events(1, 'p')[0]!.event })).previewWebhookPayload;
    expect(preview).toEqual({ wouldSend: false, renderError: 'the template took longer than 100 ms to render (a loop that runs too long?)' });
  });

  it('a rendered body is bounded', async () => {
    const big = (await t.ok(CREATE, { input: { label: 'big', events: ['user.updated'], url: `${receiver.url}/big`, active: true, payloadMode: 'CUSTOM', templateFormat: 'TEXT', template: `{% for i in (1..200) %}${'x'.repeat(10000)}{% endfor %}` } })).createWebhook.webhook.id;
    const published = (await t.ok(PUBLISH, { inputs: [{ event: { topic: 'user', action: 'updated', entityId: 'b', data: {} } }] })).publishEvents;
    const id = published[0].instances.find((i: any) => i.webhook.id === big).id;
    const failed = await eventually(async () => (await t.ok(INSTANCE, { id })).instance);
    expect(failed).toEqual({ status: 'FAILED', lastErrorKind: 'RENDER', lastMessage: 'the template rendered 2000000 bytes; a body may be at most 1048576' });
  });
});

describe('the server npm start runs', () => {
  it('renders templates on its render threads (the worker built beside it)', async () => {
    const key = 'hk_render_threads_key_000000000000000000';
    const server = startServerProcess({ DATABASE_URL: await createTestDatabase(), HERALD_BOOTSTRAP_KEY: key });
    try {
      const url = await server.listening;
      await graphqlAt(url, key, 'mutation { createTopic(input: { key: "user", name: "User" }) { key } }');
      const webhook = { label: 'x', events: ['user.created'], url: 'https://x.example', payloadMode: 'CUSTOM', templateFormat: 'TEXT', template: 'Hi {{ data.name }}' };
      const event = { topic: 'user', action: 'created', entityId: '1', data: { name: 'Ada' } };
      const preview = await graphqlAt(url, key, 'query($w: CreateWebhookInput, $e: EventInput!) { previewWebhookPayload(webhook: $w, event: $e) { body renderError } }', { w: webhook, e: event });
      expect(preview).toEqual({ data: { previewWebhookPayload: { body: 'Hi Ada', renderError: null } } });
      const slow = await graphqlAt(url, key, 'query($w: CreateWebhookInput, $e: EventInput!) { previewWebhookPayload(webhook: $w, event: $e) { renderError } }', { w: { ...webhook, template: SLOW }, e: event });
      expect(slow).toEqual({ data: { previewWebhookPayload: { renderError: 'the template took longer than 100 ms to render (a loop that runs too long?)' } } });
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    } finally {
      server.child.kill('SIGKILL');
    }
  });
});
