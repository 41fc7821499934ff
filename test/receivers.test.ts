import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { safeText } from '../src/rules/values.ts';
import { startTestApp, type TestApp } from './support/app.ts';
import { setUpTopics } from './support/fixtures.ts';
import { eventually } from './support/receiver.ts';

/** A TCP server on loopback that answers each connection by hand: anything, valid HTTP or not. */
async function rawReceiver(answer: (socket: Socket) => void): Promise<{ url: string; requests: () => number; server: Server }> {
  let requests = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      requests += 1;
      answer(socket);
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  afterAll(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, requests: () => requests, server };
}

const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
const drip = (socket: Socket, text: string, everyMs: number) => {
  let i = 0;
  const timer = setInterval(() => (socket.destroyed || i >= text.length ? clearInterval(timer) : socket.write(text[i++]!)), everyMs);
  socket.on('close', () => clearInterval(timer));
};

describe('storing what a receiver sent, as plain functions', () => {
  it('keeps valid UTF-8 and escapes NUL and each invalid byte', () => {
    expect(safeText(bytes('ok ', [0xe2, 0x82, 0xac], ' ', [0x00], ' ', [0xff, 0xfe], ' ', [0xc3, 0x28]))).toBe('ok € \\u0000 \\xff\\xfe \\xc3(');
    expect(safeText(Buffer.from('plain 😀'))).toBe('plain 😀');
  });
});

describe('whatever a receiver answers, the attempt is recorded and the instance moves on', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ HERALD_OUTBOUND_ALLOW: '127.0.0.0/8' });
    await setUpTopics(t);
  });

  const INSTANCE = `query($id: ID!) { instance(id: $id) { status attempts lastStatusCode lastErrorKind lastMessage attemptLog { number statusCode errorKind message responseBody } } }`;
  async function deliverTo(url: string, count = 1) {
    const webhook = (await t.ok('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }', {
      input: { label: `hostile ${Math.random()}`, events: ['user.created'], url, active: true, maxAttempts: 1, timeoutMs: 1000 },
    })).createWebhook.webhook.id as string;
    const inputs = Array.from({ length: count }, (_, i) => ({ event: { topic: 'user', action: 'created', entityId: `h${i}`, data: { name: 'Ada' } } }));
    const published = (await t.ok('mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { instances { id webhook { id } } } }', { inputs })).publishEvents;
    const ids = published.flatMap((p: any) => p.instances).filter((i: any) => i.webhook.id === webhook).map((i: any) => i.id as string);
    return Promise.all(ids.map((id: string) => eventually(async () => {
      const i = (await t.ok(INSTANCE, { id })).instance;
      return ['COMPLETED', 'FAILED'].includes(i.status) ? i : undefined;
    }, 20_000, `instance ${id} to finish`)));
  }

  it('a huge body: COMPLETED, with its first 4 KiB kept', async () => {
    const receiver = await rawReceiver((s) => {
      s.write('HTTP/1.1 200 OK\r\ncontent-length: 10485760\r\n\r\n');
      const chunk = Buffer.alloc(65536, 'y');
      const pump = () => { while (!s.destroyed && s.write(chunk)); };
      s.on('drain', pump);
      pump();
    });
    const [done] = await deliverTo(receiver.url);
    expect(done).toMatchObject({ status: 'COMPLETED', attempts: 1, lastStatusCode: 200 });
    expect(done.attemptLog[0].responseBody).toBe('y'.repeat(4096));
  });

  it('a body that never ends, dripping: TIMEOUT at the webhook timeout, with the status that came', async () => {
    const receiver = await rawReceiver((s) => {
      s.write('HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n');
      drip(s, 'z'.repeat(1000), 50);
    });
    const [done] = await deliverTo(receiver.url);
    expect(done).toMatchObject({ status: 'FAILED', attempts: 1, lastStatusCode: 200, lastErrorKind: 'TIMEOUT' });
    expect(done.lastMessage).toBe('200 answered, but the answer did not finish within 1000 ms');
  });

  it('endless headers: INVALID_RESPONSE', async () => {
    const receiver = await rawReceiver((s) => {
      s.write('HTTP/1.1 200 OK\r\n');
      const pump = () => { while (!s.destroyed && s.write(`x-pad-${Math.random()}: ${'h'.repeat(1000)}\r\n`)); };
      s.on('drain', pump);
      pump();
    });
    const [done] = await deliverTo(receiver.url);
    expect(done).toMatchObject({ status: 'FAILED', attempts: 1, lastErrorKind: 'INVALID_RESPONSE' });
    expect(done.lastMessage).toMatch(/^the answer is not valid HTTP \(HPE_HEADER_OVERFLOW/);
  });

  it('one header byte per second: TIMEOUT', async () => {
    const receiver = await rawReceiver((s) => drip(s, 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n', 1000));
    const [done] = await deliverTo(receiver.url);
    expect(done).toMatchObject({ status: 'FAILED', attempts: 1, lastStatusCode: null, lastErrorKind: 'TIMEOUT', lastMessage: 'no answer within 1000 ms' });
  });

  it('an answer after the timeout: TIMEOUT', async () => {
    const receiver = await rawReceiver((s) => setTimeout(() => !s.destroyed && s.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'), 1500));
    const [done] = await deliverTo(receiver.url);
    expect(done).toMatchObject({ status: 'FAILED', lastErrorKind: 'TIMEOUT' });
  });

  it('a 200 whose body stops short (the receiver closes the connection) is CONNECTION_RESET, not COMPLETED', async () => {
    const receiver = await rawReceiver((s) => {
      s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial');
      setTimeout(() => s.end(), 50);
    });
    const [done] = await deliverTo(receiver.url);
    expect(done).toMatchObject({ status: 'FAILED', attempts: 1, lastStatusCode: 200, lastErrorKind: 'CONNECTION_RESET' });
    expect(done.lastMessage).toBe('200 answered, but the answer was cut off (the connection was reset)');
    expect(done.attemptLog[0].responseBody).toBe('partial');
  });

  it('a reset mid-body is CONNECTION_RESET, not COMPLETED', async () => {
    // What came before the reset may be lost with it (the kernel drops what was not read yet), so only the kind is certain.
    const receiver = await rawReceiver((s) => {
      s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial');
      setTimeout(() => s.resetAndDestroy(), 50);
    });
    const [done] = await deliverTo(receiver.url);
    expect(done).toMatchObject({ status: 'FAILED', attempts: 1, lastErrorKind: 'CONNECTION_RESET' });
  });

  it('an answer that is not HTTP: INVALID_RESPONSE', async () => {
    const receiver = await rawReceiver((s) => s.end('HELLO THERE\r\n\r\n'));
    const [done] = await deliverTo(receiver.url);
    expect(done).toMatchObject({ status: 'FAILED', attempts: 1, lastErrorKind: 'INVALID_RESPONSE' });
  });

  it('NUL and invalid UTF-8 in the body are stored escaped; 4 instances with maxAttempts 1 make exactly 4 requests', async () => {
    const receiver = await rawReceiver((s) => s.end(bytes('HTTP/1.1 500 Internal Error\r\ncontent-length: 9\r\n\r\nbad', [0x00], 'x', [0xff, 0xc3], 'ok')));
    const done = await deliverTo(receiver.url, 4);
    for (const i of done) {
      expect(i).toMatchObject({ status: 'FAILED', attempts: 1, lastStatusCode: 500, lastErrorKind: 'HTTP_STATUS' });
      expect(i.attemptLog).toEqual([expect.objectContaining({ number: 1, responseBody: 'bad\\u0000x\\xff\\xc3ok' })]);
    }
    // Nothing runs again: wait past a job rerun's delay and count.
    await new Promise((r) => setTimeout(r, 2500));
    expect(receiver.requests()).toBe(4);
  });

  it('NUL and invalid UTF-8 in the status text and headers: recorded, whichever way HTTP parsing takes them', async () => {
    const receiver = await rawReceiver((s) => s.end(bytes('HTTP/1.1 503 Bad', [0x00, 0xff], 'Thing\r\nlocation: /x', [0xff], '\r\nx-odd: a', [0x00], 'b\r\ncontent-length: 0\r\n\r\n')));
    const [done] = await deliverTo(receiver.url);
    expect(done.status).toBe('FAILED');
    expect(done.attemptLog).toHaveLength(1);
    expect(['HTTP_STATUS', 'INVALID_RESPONSE']).toContain(done.lastErrorKind);
    expect(receiver.requests()).toBe(1);
  });

  it('testWebhook against a receiver answering NUL gives the outcome, not "Unexpected error."', async () => {
    const receiver = await rawReceiver((s) => s.end(bytes('HTTP/1.1 400 Bad Request\r\ncontent-length: 5\r\n\r\nno', [0x00], 'pe')));
    const webhook = (await t.ok('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }', {
      input: { label: 'test button', events: ['user.created'], url: receiver.url },
    })).createWebhook.webhook.id;
    const result = (await t.ok('mutation($id: ID!) { testWebhook(webhookId: $id) { success statusCode errorKind response instanceId } }', { id: webhook })).testWebhook;
    expect(result).toMatchObject({ success: false, statusCode: 400, errorKind: 'HTTP_STATUS', response: 'no\\u0000pe' });
    expect((await t.ok(INSTANCE, { id: result.instanceId })).instance.attemptLog[0].responseBody).toBe('no\\u0000pe');
  });
});
