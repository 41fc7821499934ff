import { EventEmitter, on } from 'node:events';
import type { ExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import { MAX_BEHIND, SharedSubscriptions } from '../src/graphql/sharedSubscriptions.ts';
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
  return { start, state, emit: (n: number) => emitter.emit('result', { data: { n } }) };
}
const tick = () => new Promise((r) => setImmediate(r));
const take = async (it: AsyncIterator<ExecutionResult>, count: number) => {
  const got: unknown[] = [];
  for (let i = 0; i < count; i += 1) got.push(((await it.next()).value as ExecutionResult).data!.n);
  return got;
};

describe('subscribers who asked for the same thing', () => {
  it('share one execution; each gets every result; the execution ends when the last leaves', async () => {
    const shared = new SharedSubscriptions();
    const exec = execution();
    const [a, b] = (await Promise.all([shared.subscribe('k', exec.start), shared.subscribe('k', exec.start)])) as Array<AsyncIterableIterator<ExecutionResult>>;
    expect(exec.state.started).toBe(1);
    await tick();
    for (let i = 0; i < 3; i += 1) exec.emit(i);
    expect(await take(a!, 3)).toEqual([0, 1, 2]);
    expect(await take(b!, 3)).toEqual([0, 1, 2]);
    // Another question gets its own execution.
    const other = execution();
    const c = (await shared.subscribe('other', other.start)) as AsyncIterableIterator<ExecutionResult>;
    expect(other.state.started).toBe(1);
    expect(shared.size).toBe(2);
    // A subscriber waiting for its next result leaves at once.
    const waiting = a!.next();
    await a!.return!();
    expect(await waiting).toEqual({ value: undefined, done: true });
    exec.emit(3);
    expect(await take(b!, 1)).toEqual([3]);
    await b!.return!();
    await tick();
    expect(exec.state.ended).toBe(true);
    expect(shared.size).toBe(1);
    // Asked again after every subscriber left: a new execution.
    await shared.subscribe('k', exec.start);
    expect(exec.state.started).toBe(2);
    await c.return!();
  });

  it('a subscriber that stops reading is ended with an error past MAX_BEHIND; the others go on', async () => {
    const shared = new SharedSubscriptions();
    const exec = execution();
    const slow = (await shared.subscribe('k', exec.start)) as AsyncIterableIterator<ExecutionResult>;
    const fast = (await shared.subscribe('k', exec.start)) as AsyncIterableIterator<ExecutionResult>;
    await tick();
    const total = MAX_BEHIND + 10;
    const read: unknown[] = [];
    for (let i = 0; i < total; i += 1) {
      exec.emit(i);
      read.push(...(await take(fast, 1)));
      await tick();
    }
    expect(read).toHaveLength(total);
    // The slow one reads what was queued, then learns it fell behind.
    expect(await take(slow, MAX_BEHIND)).toEqual(Array.from({ length: MAX_BEHIND }, (_, i) => i));
    await expect(slow.next()).rejects.toThrow(/fell more than 1024 changes behind; subscribe again and catch up/);
    exec.emit(total);
    expect(await take(fast, 1)).toEqual([total]);
    await fast.return!();
  });

  it('an error answer (not found, bad arguments) is given to each who asks and not kept', async () => {
    const shared = new SharedSubscriptions();
    let asked = 0;
    const refuse = () => ((asked += 1), { errors: [] } as ExecutionResult);
    expect(await shared.subscribe('k', refuse)).toEqual({ errors: [] });
    expect(await shared.subscribe('k', refuse)).toEqual({ errors: [] });
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
