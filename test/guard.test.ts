import { beforeAll, describe, expect, it } from 'vitest';
import { AddressGuard } from '../src/rules/addresses.ts';
import { startTestApp, type TestApp } from './support/app.ts';
import { eventually, Receiver } from './support/receiver.ts';

describe('deliveries to private addresses are refused', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::7f00:1', 'loopback'],
    ['::127.0.0.1', 'loopback'],
    ['::a9fe:a9fe', 'linkLocal'],
    ['::10.0.0.1', 'private'],
    ['fd00::1', 'uniqueLocal'],
    ['0.0.0.0', 'unspecified'],
  ])('%s (%s)', (address, range) => {
    expect(new AddressGuard([]).refusal(address)).toContain(`is a ${range} address`);
  });

  it('public addresses pass, and an allow-list opens exactly its ranges', () => {
    expect(new AddressGuard([]).refusal('93.184.216.34')).toBeNull();
    expect(new AddressGuard([]).refusal('::5db8:d822')).toBeNull();
    const guard = new AddressGuard(['127.0.0.0/8']);
    expect(guard.refusal('127.0.0.1')).toBeNull();
    expect(guard.refusal('10.0.0.1')).not.toBeNull();
  });

  describe('over the wire, with no allow-list', () => {
    let t: TestApp;
    let receiver: Receiver;
    beforeAll(async () => {
      t = await startTestApp({ HERALD_MIN_BACKOFF_MS: '20' });
      await t.ok('mutation { createTopic(input: { key: "user", name: "User" }) { key } }');
      receiver = await Receiver.start();
    });

    it.each([
      ['an IP literal', (port: string) => `http://127.0.0.1:${port}/`],
      ['a name that resolves to loopback', (port: string) => `http://localhost:${port}/`],
      ['the cloud metadata address', () => 'http://169.254.169.254/latest/meta-data/'],
      ['an IPv4-compatible IPv6 literal of loopback', (port: string) => `http://[::7f00:1]:${port}/`],
    ])('%s is BLOCKED and nothing reaches it', async (_name, url) => {
      const port = new URL(receiver.url).port;
      const { webhook } = (
        await t.ok('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }', {
          input: { label: 'internal', events: ['user.created'], url: url(port), active: true, maxAttempts: 1 },
        })
      ).createWebhook;
      const published = await t.ok('mutation { publishEvent(input: { event: { topic: "user", action: "created", entityId: "1", data: {} } }) { instances { id webhook { id } } } }');
      const id = published.publishEvent.instances.find((i: any) => i.webhook.id === webhook.id).id;
      const failed = await eventually(async () => {
        const i = (await t.ok('query($id: ID!) { instance(id: $id) { status lastErrorKind lastMessage } }', { id })).instance;
        return i.status === 'FAILED' ? i : undefined;
      });
      expect(failed.lastErrorKind).toBe('BLOCKED');
      expect(failed.lastMessage).toMatch(/address; deliveries to it are refused \(allow it with HERALD_OUTBOUND_ALLOW\)/);
      await t.ok('mutation($id: ID!) { deleteWebhook(id: $id) { id } }', { id: webhook.id });
      expect(receiver.received).toEqual([]);
    });
  });
});
