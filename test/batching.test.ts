import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, startTestApp, type TestApp } from './support/app.ts';
import { createTestDatabase } from './support/database.ts';
import { clientFor, startServerProcess, type ServerProcess } from './support/process.ts';
import { eventually, Receiver } from './support/receiver.ts';

const TOPICS = [
  { key: 'training', name: 'Training', resourceUrlTemplate: 'http://api.springest.nl/trainings/{id}' },
  { key: 'institute', name: 'Institute', resourceUrlTemplate: 'http://api.springest.nl/institutes/{id}', customActions: ['import'] },
];

describe("Springest's delayed, bundled changes", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ HERALD_OUTBOUND_ALLOW: '127.0.0.0/8' });
    for (const input of TOPICS) await t.ok('mutation($input: CreateTopicInput!) { createTopic(input: $input) { key } }', { input });
  });
  const hook = async (url: string, extra: object) =>
    (await t.ok('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id batchWindowMs batchMaxSize payloadMode } } }', {
      input: { label: 'springest', events: ['training.*', 'institute.*'], url, active: true, payloadMode: 'CHANGES', ...extra },
    })).createWebhook.webhook;
  const publish = (events: Array<{ topic?: string; action: string; id: string }>) =>
    t.ok('mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { event { id } } }', {
      inputs: events.map((e) => ({ event: { topic: e.topic ?? 'training', action: e.action, entityId: e.id, data: e.action === 'deleted' ? null : { v: 1 } } })),
    });

  it('50 updates to 10 objects within a window → one request with 10 changes', async () => {
    const receiver = await Receiver.start();
    const webhook = await hook(receiver.url, { batchWindowMs: 1500 });
    expect(webhook).toMatchObject({ batchWindowMs: 1500, batchMaxSize: 100, payloadMode: 'CHANGES' });
    for (let round = 0; round < 5; round += 1) {
      await publish(Array.from({ length: 10 }, (_, i) => ({ action: 'updated', id: String(100 + i) })));
    }
    await receiver.waitFor(1);
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.received).toHaveLength(1);
    const { changes } = JSON.parse(receiver.received[0]!.body);
    expect(changes).toHaveLength(10);
    expect(changes[0]).toEqual({ action: 'update', object: 'training', id: 100, url: 'http://api.springest.nl/trainings/100' });
    const instance = (await t.ok('query($w: ID!) { instances(filter: { webhookId: $w }) { edges { node { status events { entityId } } } } }', { w: webhook.id })).instances.edges[0].node;
    expect(instance.events).toHaveLength(50);
    await t.ok('mutation($id: ID!) { setWebhookActive(id: $id, active: false) { id } }', { id: webhook.id });
  });

  it('a window closes on time with fewer events', async () => {
    const receiver = await Receiver.start();
    const webhook = await hook(receiver.url, { batchWindowMs: 800 });
    const started = Date.now();
    await publish([{ action: 'updated', id: '1' }, { topic: 'institute', action: 'import', id: '234234' }]);
    await receiver.waitFor(1);
    const waited = receiver.received[0]!.at - started;
    expect(waited).toBeGreaterThanOrEqual(700);
    expect(waited).toBeLessThan(5000);
    expect(JSON.parse(receiver.received[0]!.body).changes).toEqual([
      { action: 'update', object: 'training', id: 1, url: 'http://api.springest.nl/trainings/1' },
      { action: 'import', object: 'institute', id: 234234, url: 'http://api.springest.nl/institutes/234234' },
    ]);
    await t.ok('mutation($id: ID!) { setWebhookActive(id: $id, active: false) { id } }', { id: webhook.id });
  });

  it('the size limit splits a burst', async () => {
    const receiver = await Receiver.start();
    const webhook = await hook(receiver.url, { batchWindowMs: 1000, batchMaxSize: 5 });
    await publish(Array.from({ length: 12 }, (_, i) => ({ action: 'updated', id: String(i) })));
    await receiver.waitFor(3);
    const sizes = receiver.received.map((r) => JSON.parse(r.body).changes.length);
    expect(sizes).toEqual([5, 5, 2]);
    await t.ok('mutation($id: ID!) { setWebhookActive(id: $id, active: false) { id } }', { id: webhook.id });
  });

  it('created then deleted collapses to a destroy, with no url', async () => {
    const receiver = await Receiver.start();
    const webhook = await hook(receiver.url, { batchWindowMs: 500 });
    await publish([{ action: 'created', id: '345345' }, { action: 'updated', id: '345345' }, { action: 'deleted', id: '345345' }]);
    await receiver.waitFor(1);
    expect(JSON.parse(receiver.received[0]!.body)).toEqual({ changes: [{ action: 'destroy', object: 'training', id: 345345 }] });
    await t.ok('mutation($id: ID!) { setWebhookActive(id: $id, active: false) { id } }', { id: webhook.id });
  });

  it('refuses batching with a custom template or with ordered delivery, and bad bounds', async () => {
    const cases: Array<[object, string]> = [
      [{ batchWindowMs: 50 }, 'input.batchWindowMs'],
      [{ batchWindowMs: 1000, batchMaxSize: 0 }, 'input.batchMaxSize'],
      [{ batchWindowMs: 1000, payloadMode: 'CUSTOM', template: '{}' }, 'input.payloadMode'],
      [{ batchWindowMs: 1000, orderedDelivery: true }, 'input.orderedDelivery'],
    ];
    for (const [extra, field] of cases) {
      const result = await t.gql('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { secret } }', {
        input: { label: 'bad', events: ['training.updated'], url: 'https://x.example/h', payloadMode: 'CHANGES', ...extra },
      });
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
  });

  it('the preview shows a batching webhook sending a batch of one', async () => {
    const preview = await t.ok(
      'query($w: CreateWebhookInput!) { previewWebhookPayload(webhook: $w, event: { topic: "training", action: "updated", entityId: "9", data: {} }) { batchWindowMs body } }',
      { w: { label: 'p', events: ['training.updated'], url: 'https://x.example/h', payloadMode: 'CHANGES', batchWindowMs: 5000 } },
    );
    expect(preview.previewWebhookPayload).toEqual({ batchWindowMs: 5000, body: '{"changes":[{"action":"update","object":"training","id":9,"url":"http://api.springest.nl/trainings/9"}]}' });
  });
});

describe('a batch whose window is open when the server is killed', () => {
  let server: ServerProcess | undefined;
  afterAll(() => server?.child.kill('SIGKILL'));

  it('is sent after the restart, with every event', async () => {
    const env = { DATABASE_URL: await createTestDatabase(), HERALD_BOOTSTRAP_KEY: ADMIN_KEY, HERALD_OUTBOUND_ALLOW: '127.0.0.0/8' };
    const receiver = await Receiver.start();
    server = startServerProcess(env);
    let url = await server.listening;
    const gql = clientFor(() => url, ADMIN_KEY);
    await gql('mutation { createTopic(input: { key: "training", name: "Training" }) { key } }');
    await gql('mutation($url: String!) { createWebhook(input: { label: "s", events: ["training.updated"], url: $url, active: true, payloadMode: CHANGES, batchWindowMs: 3000 }) { secret } }', { url: receiver.url });
    const inputs = ['1', '2', '3'].map((id) => ({ event: { topic: 'training', action: 'updated', entityId: id, data: {} } }));
    await gql('mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { event { id } } }', { inputs });
    server.child.kill('SIGKILL');
    await server.exited;
    expect(receiver.received).toEqual([]);
    server = startServerProcess(env);
    url = await server.listening;
    await eventually(async () => receiver.received.length > 0, 30_000, 'the batch after the restart');
    expect(JSON.parse(receiver.received[0]!.body).changes.map((c: { id: number }) => c.id)).toEqual([1, 2, 3]);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    server = undefined;
  }, 90_000);
});
