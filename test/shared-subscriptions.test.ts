import { EventEmitter, on } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { GraphQLError, type ExecutionResult } from 'graphql';
import { MessageType, stringifyMessage } from 'graphql-ws';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { SharedSubscriptions } from '../src/graphql/sharedSubscriptions.ts';
import { WriteCoalescer } from '../src/graphql/socketWrites.ts';
import { ADMIN_KEY, startTestApp } from './support/app.ts';
import { setUpTopics } from './support/fixtures.ts';
import { Receiver } from './support/receiver.ts';
import { ready, subscribe } from './support/ws.ts';

/** An execution as yoga's subscribe answers it: results as `emit` is called, and whether it was ended. */
function execution() {
  const emitter = new EventEmitter();
  const state = { started: 0, ended: false };
  const start = () => {
    state.started += 1;
    const events = on(emitter, 'result');
    // As yoga's are: `return` ends it at once, even while a result is awaited.
    const results: AsyncIterableIterator<ExecutionResult> = {
      next: async () => {
        const next = await events.next();
        return next.done ? { value: undefined, done: true } : { value: next.value[0] as ExecutionResult, done: false };
      },
      return: async () => {
        state.ended = true;
        await events.return!();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]: () => results,
    };
    return results;
  };
  return { start, state, emit: (n: number, text?: string) => emitter.emit('result', { data: text ? { n, text } : { n } }), emitResult: (result: ExecutionResult) => emitter.emit('result', result) };
}
const tick = () => new Promise((r) => setImmediate(r));
const until = async (check: () => boolean) => {
  for (let i = 0; !check(); i += 1) {
    if (i > 2000) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

/**
 * Subscribers on real WebSockets over loopback: a ws server whose sockets go through a
 * WriteCoalescer (as the app's do), and a client for each that records the messages it
 * gets and can stop reading.
 */
async function sockets(highWaterBytes = 256 * 1024) {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => server.once('listening', r));
  const writes = new WriteCoalescer(5, highWaterBytes);
  const clients: WebSocket[] = [];
  let made = 0;
  const connect = async () => {
    const accepted = new Promise<WebSocket>((resolve) => server.once('connection', (ws, request) => (writes.adopt(ws, request.socket as Socket), resolve(ws))));
    const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    clients.push(client);
    const messages: any[] = [];
    client.on('message', (data) => messages.push(JSON.parse(String(data))));
    await new Promise((r) => client.once('open', r));
    const subscriber = { id: `sub-${(made += 1)}`, outlet: writes.outlet(await accepted) };
    /** The `n` of each `next` message's result. */
    const ns = () => messages.filter((m) => m.type === 'next').map((m) => m.payload.data.n);
    const socket = (client as unknown as { _socket: Socket })._socket;
    return { subscriber, messages, ns, pause: () => socket.pause(), resume: () => socket.resume() };
  };
  const close = () => new Promise((r) => (clients.forEach((c) => c.terminate()), writes.close(), server.close(r)));
  return { connect, close };
}

describe('subscribers who asked for the same thing', () => {
  const open: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const close of open.splice(0)) await close();
  });

  it('share one execution; each gets every result on its socket as graphql-ws would send it; the execution ends when the last leaves', async () => {
    const net = await sockets();
    open.push(net.close);
    const [one, two, three] = [await net.connect(), await net.connect(), await net.connect()];
    const shared = new SharedSubscriptions();
    const exec = execution();
    const [a, b] = (await Promise.all([shared.subscribe('k', one!.subscriber, exec.start), shared.subscribe('k', two!.subscriber, exec.start)])) as Array<AsyncIterableIterator<never>>;
    expect(exec.state.started).toBe(1);
    await tick();
    for (let i = 0; i < 3; i += 1) exec.emit(i);
    await until(() => one!.ns().length === 3 && two!.ns().length === 3);
    expect(one!.ns()).toEqual([0, 1, 2]);
    expect(two!.ns()).toEqual([0, 1, 2]);
    // The message is graphql-ws's own `next`: its id, the result, errors as their JSON.
    expect(one!.messages[0]).toEqual({ id: one!.subscriber.id, type: 'next', payload: { data: { n: 0 } } });
    const failed: ExecutionResult = { data: { n: null }, errors: [new GraphQLError('boom', { path: ['n'], extensions: { code: 'X' } })] };
    exec.emitResult(failed);
    await until(() => two!.messages.length === 4);
    expect(two!.messages[3]).toEqual(JSON.parse(stringifyMessage({ id: two!.subscriber.id, type: MessageType.Next, payload: { data: failed.data, errors: failed.errors!.map((e) => (e as GraphQLError).toJSON()) } })));
    // Another question gets its own execution.
    const other = execution();
    const c = (await shared.subscribe('other', three!.subscriber, other.start)) as AsyncIterableIterator<never>;
    expect(other.state.started).toBe(1);
    expect(shared.size).toBe(2);
    // A subscriber waiting for its end leaves at once.
    const waiting = a!.next();
    await a!.return!();
    expect(await waiting).toEqual({ value: undefined, done: true });
    exec.emit(5);
    await until(() => two!.ns().length === 5);
    expect(one!.ns()).toHaveLength(4);
    await b!.return!();
    await tick();
    expect(exec.state.ended).toBe(true);
    expect(shared.size).toBe(1);
    // Asked again after every subscriber left: a new execution.
    await shared.subscribe('k', one!.subscriber, exec.start);
    expect(exec.state.started).toBe(2);
    await c.return!();
  });

  /** A slow and a fast subscriber sharing one execution (at most 8 results may wait, past 1 KB unread); `emit` sends a large result and waits for the fast one to have it. */
  const slowAndFast = async () => {
    const net = await sockets(1024);
    open.push(net.close);
    const [slowClient, fastClient] = [await net.connect(), await net.connect()];
    const shared = new SharedSubscriptions(8);
    const exec = execution();
    const slow = (await shared.subscribe('k', slowClient!.subscriber, exec.start)) as AsyncIterableIterator<never>;
    const fast = (await shared.subscribe('k', fastClient!.subscriber, exec.start)) as AsyncIterableIterator<never>;
    await tick();
    slowClient!.pause();
    let sent = 0;
    // Large results, so that the kernel's buffers fill and the slow socket backs up.
    const emit = async () => {
      exec.emit(sent, 'x'.repeat(16 * 1024));
      sent += 1;
      await until(() => fastClient!.ns().length === sent);
    };
    return { slowClient: slowClient!, fastClient: fastClient!, slow, fast, exec, emit, sent: () => sent };
  };

  it('a subscriber whose client reads slowly gets what waited for it, in order, once its socket drains', async () => {
    const { slowClient, slow, fast, emit, sent } = await slowAndFast();
    while (!slowClient.subscriber.outlet.backedUp && sent() < 4000) await emit();
    expect(slowClient.subscriber.outlet.backedUp).toBe(true);
    for (let i = 0; i < 5; i += 1) await emit(); // these wait, fewer than the limit
    slowClient.resume();
    await until(() => slowClient.ns().length === sent());
    expect(slowClient.ns()).toEqual(Array.from({ length: sent() }, (_, i) => i));
    await slow.return!();
    await fast.return!();
  });

  it('a subscriber whose client stops reading has its results wait, is ended with an error past the limit, and the others go on', async () => {
    const { fastClient, slow, fast, exec, emit, sent } = await slowAndFast();
    let ended: unknown;
    slow.next().catch((error) => (ended = error));
    while (!ended && sent() < 4000) await emit();
    expect(String(ended)).toMatch(/fell more than 8 changes behind; subscribe again and catch up/);
    expect(fastClient.ns()).toEqual(Array.from({ length: sent() }, (_, i) => i));
    exec.emit(sent());
    await until(() => fastClient.ns().length === sent() + 1);
    await fast.return!();
  });

  it('an error answer (not found, bad arguments) is given to each who asks and not kept', async () => {
    const shared = new SharedSubscriptions();
    let asked = 0;
    const refuse = () => ((asked += 1), { errors: [] } as ExecutionResult);
    const subscriber = { id: '1', outlet: { send: () => undefined, backedUp: false, onDrain: () => undefined } };
    expect(await shared.subscribe('k', subscriber, refuse)).toEqual({ errors: [] });
    expect(await shared.subscribe('k', subscriber, refuse)).toEqual({ errors: [] });
    expect(asked).toBe(2);
    expect(shared.size).toBe(0);
  });
});

describe('shared subscriptions through graphql-ws', () => {
  it('identical subscriptions each get their changes, a different one only its own, and one leaving does not end the other', async () => {
    const t = await startTestApp({ HERALD_OUTBOUND_ALLOW: '127.0.0.0/8' });
    const url = (await t.app.start(0, '127.0.0.1')).url;
    await setUpTopics(t);
    const receiver = await Receiver.start();
    const make = async (label: string) =>
      (await t.ok('mutation($url: String!, $l: String!) { createWebhook(input: { label: $l, events: ["user.created"], url: $url, active: true }) { webhook { id } } }', { url: receiver.url, l: label })).createWebhook.webhook.id as string;
    const [first, second] = [await make('first'), await make('second')];
    const query = 'subscription($w: ID) { instanceUpdated(webhookId: $w, statuses: [COMPLETED]) { status webhook { label } } }';
    const one = subscribe(url, ADMIN_KEY, query, { w: first });
    const same = subscribe(url, ADMIN_KEY, query, { w: first });
    const other = subscribe(url, ADMIN_KEY, query, { w: second });
    await Promise.all([ready(one), ready(same), ready(other)]);
    const publish = (id: string) => t.ok('mutation($id: String!) { publishEvent(input: { event: { topic: "user", action: "created", entityId: $id, data: {} } }) { event { id } } }', { id });
    await publish('u1');
    for (const sub of [one, same, other]) await sub.waitFor(1);
    expect(one.values.map((v: any) => v.instanceUpdated.webhook.label)).toEqual(['first']);
    expect(same.values).toEqual(one.values);
    expect(other.values.map((v: any) => v.instanceUpdated.webhook.label)).toEqual(['second']);
    await one.client.dispose();
    await publish('u2');
    await same.waitFor(2);
    await other.waitFor(2);
    expect(same.values.map((v: any) => v.instanceUpdated.status)).toEqual(['COMPLETED', 'COMPLETED']);
    expect(one.values).toHaveLength(1);
    await same.client.dispose();
    await other.client.dispose();
  });
});
