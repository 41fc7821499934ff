import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { WriteCoalescer } from '../src/graphql/socketWrites.ts';
import { ADMIN_KEY, startTestApp } from './support/app.ts';
import { setUpTopics } from './support/fixtures.ts';
import { Receiver } from './support/receiver.ts';
import { ready, subscribe } from './support/ws.ts';

/**
 * A real ws server and client on loopback; the server's socket counts what it hands to
 * the kernel (a write or a gathered writev: each one system call).
 */
async function connected(coalescer: WriteCoalescer) {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  const accepted = new Promise<{ ws: WebSocket; writes: () => number }>((resolve) =>
    server.on('connection', (ws, request) => {
      const socket = request.socket as Socket & { _write: Function; _writev: Function };
      let writes = 0;
      for (const method of ['_write', '_writev'] as const) {
        const original = socket[method].bind(socket);
        socket[method] = (...args: unknown[]) => {
          writes += 1;
          return original(...args);
        };
      }
      coalescer.adopt(ws, socket);
      resolve({ ws, writes: () => writes });
    }),
  );
  await new Promise((r) => server.once('listening', r));
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
  const received: string[] = [];
  client.on('message', (data) => received.push(String(data)));
  await new Promise((r) => client.once('open', r));
  const { ws, writes } = await accepted;
  return { server, client, ws, writes, received, close: () => new Promise((r) => { client.terminate(); server.close(r); }) };
}

const sent = (ws: WebSocket, data: string) => {
  const state = { written: false };
  ws.send(data, () => (state.written = true));
  return state;
};
const until = async (check: () => boolean) => {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
};

describe('frames to one WebSocket written together', () => {
  const open: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const close of open.splice(0)) await close();
  });

  it('writes the first frame at once and those right after it in one write at the end of the window, in order', async () => {
    const coalescer = new WriteCoalescer(40, 1 << 20);
    const c = await connected(coalescer);
    open.push(c.close);
    const before = c.writes();
    sent(c.ws, 'first');
    expect(c.writes()).toBe(before + 1); // idle: no wait
    const rest = Array.from({ length: 200 }, (_, i) => sent(c.ws, `frame ${i}`));
    expect(c.writes()).toBe(before + 1); // held for the window…
    await new Promise((r) => queueMicrotask(() => r(undefined)));
    expect(rest.every((s) => s.written)).toBe(true); // …yet reported written, so a sender goes on
    await until(() => c.received.length === 201);
    expect(c.writes()).toBe(before + 2); // all 200 in one write
    expect(c.received).toEqual(['first', ...Array.from({ length: 200 }, (_, i) => `frame ${i}`)]);
  });

  it('makes a sender wait for the socket once more than the high-water mark waits', async () => {
    const coalescer = new WriteCoalescer(40, 1000);
    const c = await connected(coalescer);
    open.push(c.close);
    sent(c.ws, 'first');
    const small = sent(c.ws, 'x'.repeat(600));
    const second = sent(c.ws, 'x'.repeat(600));
    const over = sent(c.ws, 'x'.repeat(600)); // 1,200 bytes wait already
    await new Promise((r) => setImmediate(r));
    expect([small.written, second.written, over.written]).toEqual([true, true, false]);
    await until(() => over.written);
    await until(() => c.received.length === 4);
  });

  it('writes what waits when closed', async () => {
    const coalescer = new WriteCoalescer(60_000, 1 << 20);
    const c = await connected(coalescer);
    open.push(c.close);
    sent(c.ws, 'first');
    sent(c.ws, 'second');
    coalescer.close();
    await until(() => c.received.length === 2);
    expect(c.received).toEqual(['first', 'second']);
  });

  it('serves graphql-ws subscribers through the window: each gets every change', async () => {
    const t = await startTestApp({ HERALD_OUTBOUND_ALLOW: '127.0.0.0/8' });
    const url = (await t.app.start(0, '127.0.0.1')).url;
    await setUpTopics(t);
    const receiver = await Receiver.start();
    const { createWebhook } = await t.ok('mutation($url: String!) { createWebhook(input: { label: "w", events: ["user.created"], url: $url, active: true }) { webhook { id } } }', { url: receiver.url });
    const query = 'subscription($w: ID) { instanceUpdated(webhookId: $w) { entityId status } }';
    const watchers = Array.from({ length: 5 }, () => subscribe(url, ADMIN_KEY, query, { w: createWebhook.webhook.id }));
    await Promise.all(watchers.map(ready));
    const entities = Array.from({ length: 30 }, (_, i) => `u${i}`);
    await Promise.all(
      entities.map((id) => t.ok('mutation($id: String!) { publishEvent(input: { event: { topic: "user", action: "created", entityId: $id, data: {} } }) { event { id } } }', { id })),
    );
    for (const watcher of watchers) {
      await until(() => watcher.values.filter((v: any) => v.instanceUpdated.status === 'COMPLETED').length === entities.length);
      // Each entity's changes in the order they happened.
      for (const id of entities) expect(watcher.values.filter((v: any) => v.instanceUpdated.entityId === id).map((v: any) => v.instanceUpdated.status).at(-1)).toBe('COMPLETED');
      expect(watcher.values).toEqual(watchers[0]!.values);
    }
    for (const watcher of watchers) await watcher.client.dispose();
  });
});
