import { createClient } from 'graphql-ws';
import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WEBSOCKET_LIMITS } from '../src/graphql/websocket.ts';
import { ADMIN_KEY, startTestApp, type TestApp } from './support/app.ts';
import { setUpTopics } from './support/fixtures.ts';

/** A raw graphql-ws socket, to send what no well-behaved client would. */
function rawSocket(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}
const closeOf = (socket: WebSocket) => new Promise<{ code: number; at: number }>((resolve) => socket.once('close', (code) => resolve({ code, at: Date.now() })));

describe('WebSocket connections are bounded', () => {
  let t: TestApp;
  let url: string;
  beforeAll(async () => {
    t = await startTestApp();
    url = (await t.app.start(0, '127.0.0.1')).url;
    await setUpTopics(t);
  });
  const stillAnswers = async () => expect((await t.ok('{ viewer { role } }')).viewer.role).toBe('ADMIN');

  it('a connection_init frame over 1 MiB closes the socket (1009) before authentication', async () => {
    const socket = await rawSocket(url);
    const closed = closeOf(socket);
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${ADMIN_KEY}`, pad: 'x'.repeat(WEBSOCKET_LIMITS.frameBytes + 1) } }));
    expect((await closed).code).toBe(1009);
    await stillAnswers();
  });

  it('a socket that does not authenticate within 3 s is closed (4408)', async () => {
    const socket = await rawSocket(url);
    const opened = Date.now();
    const closed = await closeOf(socket);
    expect(closed.code).toBe(4408);
    expect(closed.at - opened).toBeGreaterThanOrEqual(WEBSOCKET_LIMITS.authenticateWithinMs - 100);
  });

  it('a subscription that does not parse, or is over the token limit, gets its own error; the others on the socket go on', async () => {
    let closedCode: number | undefined;
    const client = createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${ADMIN_KEY}` },
      retryAttempts: 0,
      on: { closed: (event) => (closedCode = (event as { code: number }).code) },
    });
    const events: unknown[] = [];
    let gotFirst: () => void;
    const first = new Promise<void>((resolve) => (gotFirst = resolve));
    client.subscribe({ query: 'subscription { eventPublished { id entityId } }' }, { next: (v) => (events.push(v.data), gotFirst()), error: () => {}, complete: () => {} });
    const failing = (query: string) => new Promise<any[]>((resolve) => client.subscribe({ query }, { next: () => {}, error: (e) => resolve(e as any[]), complete: () => resolve([]) }));
    const syntax = await failing('subscription { eventPublished { id ');
    expect(syntax[0]).toMatchObject({ message: expect.stringMatching(/^Syntax Error/), extensions: { code: 'BAD_USER_INPUT' } });
    const tokens = await failing(`subscription { eventPublished { ${'id '.repeat(6000)} } }`);
    expect(tokens[0]).toMatchObject({ message: expect.stringMatching(/^Token limit of 5000 exceeded/), extensions: { code: 'BAD_USER_INPUT' } });
    const invalid = await failing('subscription { eventPublished { nope } }');
    expect(invalid[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    // The first subscription still streams on the same socket.
    await new Promise((r) => setTimeout(r, 300));
    await t.ok('mutation { publishEvent(input: { event: { topic: "user", action: "created", entityId: "ws-1", data: {} } }) { event { id } } }');
    await first;
    expect(events).toEqual([{ eventPublished: expect.objectContaining({ entityId: 'ws-1' }) }]);
    expect(closedCode).toBeUndefined();
    await client.dispose();
  });
});
