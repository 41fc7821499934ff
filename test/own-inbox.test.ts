import { createServer, type AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.ts';
import { eventually } from './support/receiver.ts';

describe("Herald's own inboxes, reached by a host name", () => {
  let t: TestApp;
  beforeAll(async () => {
    const port = await freePort();
    t = await startTestApp({ HERALD_PUBLIC_URL: `http://localhost:${port}` });
    await t.app.start(port, '127.0.0.1');
    await t.ok('mutation { createTopic(input: { key: "user", name: "User" }) { key } }');
  });

  it("a kept-alive socket opened for an inbox never carries a guarded delivery to the same host and port", async () => {
    const inbox = (await t.ok('mutation { createInbox(input: { name: "own" }) { url } }')).createInbox;
    const create = async (label: string, url: string) => (await t.ok('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }', {
      input: { label, events: ['user.created'], url, active: true, maxAttempts: 1 },
    })).createWebhook.webhook.id as string;
    const toInbox = await create('to the inbox', inbox.url);
    const finished = async (webhookId: string) => {
      const published = await t.ok('mutation { publishEvent(input: { event: { topic: "user", action: "created", entityId: "1", data: {} } }) { instances { id webhook { id } } } }');
      const id = published.publishEvent.instances.find((i: any) => i.webhook.id === webhookId).id;
      return eventually(async () => {
        const i = (await t.ok('query($id: ID!) { instance(id: $id) { status lastErrorKind } }', { id })).instance;
        return ['COMPLETED', 'FAILED'].includes(i.status) ? i : undefined;
      });
    };
    expect(await finished(toInbox)).toMatchObject({ status: 'COMPLETED' });
    // The same host and port, not an inbox: the guard must see this connection (localhost is loopback).
    await t.ok('mutation($id: ID!) { setWebhookActive(id: $id, active: false) { id } }', { id: toInbox });
    const sneaky = await create('same origin, not an inbox', inbox.url.replace(/\/inbox\/.*$/, '/healthz'));
    expect(await finished(sneaky)).toMatchObject({ status: 'FAILED', lastErrorKind: 'BLOCKED' });
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
