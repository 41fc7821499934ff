import { beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.ts';
import { eventually, Receiver } from './support/receiver.ts';

describe('per-entity ordered delivery', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ HERALD_OUTBOUND_ALLOW: '127.0.0.0/8', HERALD_MIN_BACKOFF_MS: '20' });
    await t.ok('mutation { createTopic(input: { key: "booking", name: "Booking" }) { key } }');
  });
  const hook = async (url: string, extra: object = {}) =>
    (await t.ok('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id orderedDelivery } } }', {
      input: { label: 'ordered', events: ['booking.updated'], url, active: true, orderedDelivery: true, backoffBaseMs: 150, backoffCapMs: 300, ...extra },
    })).createWebhook.webhook;
  const publishAll = (events: Array<[string, number]>) =>
    t.ok('mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { instances { id held webhook { id } } } }', {
      inputs: events.map(([entityId, n]) => ({ event: { topic: 'booking', action: 'updated', entityId, data: { n } } })),
    });
  const seq = (r: { body: string }) => {
    const body = JSON.parse(r.body);
    return `${body.entityId}${body.data.n}`;
  };

  it("holds an entity's later events while its first fails twice; other entities flow meanwhile", async () => {
    let a1Failures = 0;
    const receiver = await Receiver.start((r) => (seq(r) === 'A1' && a1Failures++ < 2 ? { status: 500 } : { status: 200 }));
    const webhook = await hook(receiver.url);
    expect(webhook.orderedDelivery).toBe(true);
    const published = await publishAll([['A', 1], ['A', 2], ['B', 1], ['A', 3], ['B', 2]]);
    expect(published.publishEvents.map((p: any) => p.instances.find((i: any) => i.webhook.id === webhook.id).held)).toEqual([false, true, false, true, true]);
    await receiver.waitFor(7);
    const order = receiver.received.map(seq);
    expect(order.filter((s) => s.startsWith('A'))).toEqual(['A1', 'A1', 'A1', 'A2', 'A3']);
    expect(order.filter((s) => s.startsWith('B'))).toEqual(['B1', 'B2']);
    // B was not held up by A's failures: both B events arrived before A1 finally succeeded.
    const a1Success = order.lastIndexOf('A1');
    expect(order.indexOf('B2')).toBeLessThan(a1Success);
  });

  it('a FAILED or cancelled head lets the next event of its entity go', async () => {
    const receiver = await Receiver.start((r) => (seq(r) === 'C1' ? { status: 500 } : { status: 200 }));
    const failing = await hook(receiver.url, { maxAttempts: 1 });
    await publishAll([['C', 1], ['C', 2]]);
    await receiver.waitFor(2);
    expect(receiver.received.map(seq)).toEqual(['C1', 'C2']);
    await t.ok('mutation($id: ID!) { setWebhookActive(id: $id, active: false) { id } }', { id: failing.id });

    const slow = await Receiver.start(() => ({ status: 500 }));
    const webhook = await hook(slow.url, { maxAttempts: 5, backoffBaseMs: 60_000, backoffCapMs: 60_000 });
    const published = await publishAll([['D', 1], ['D', 2]]);
    const [head, next] = published.publishEvents.map((p: any) => p.instances.find((i: any) => i.webhook.id === webhook.id).id);
    await eventually(async () => (await t.ok('query($id: ID!) { instance(id: $id) { status } }', { id: head })).instance.status === 'RETRYING');
    await t.ok('mutation($id: ID!) { cancelInstance(id: $id) { status } }', { id: head });
    await slow.waitFor(2);
    expect(slow.received.map(seq)).toEqual(['D1', 'D2']);
    const released = await eventually(async () => {
      const i = (await t.ok('query($id: ID!) { instance(id: $id) { held status } }', { id: next })).instance;
      return i.status === 'RETRYING' ? i : undefined;
    });
    expect(released.held).toBe(false);
    await t.ok('mutation($id: ID!) { setWebhookActive(id: $id, active: false) { id } }', { id: webhook.id });
  });

  it('is shown in the preview', async () => {
    const preview = await t.ok(
      'query($w: CreateWebhookInput!) { previewWebhookPayload(webhook: $w, event: { topic: "booking", action: "updated", entityId: "1", data: {} }) { orderedDelivery } }',
      { w: { label: 'p', events: ['booking.updated'], url: 'https://x.example/h', orderedDelivery: true } },
    );
    expect(preview.previewWebhookPayload.orderedDelivery).toBe(true);
  });
});
