import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { Context } from '../src/graphql/context.ts';
import { changes, loader } from '../src/graphql/schema/subscriptions.ts';

const tenant = 't1';
const ctx = (feed: EventEmitter) => ({ auth: { principal: { kind: 'key', keyId: 'k1', tenantId: tenant, role: 'VIEWER' } }, feed }) as unknown as Context;
const instanceChange = (i: number) => ({ k: 'instance', t: tenant, id: `i${i}`, w: 'w1', s: 'COMPLETED' });

describe('a subscriber of changes', () => {
  it('gets every change in order, each with its row, the rows of changes arriving together loaded in one query', async () => {
    const feed = new EventEmitter();
    const queries: string[][] = [];
    const load = loader(async (ids) => (queries.push(ids), ids.map((id) => ({ id, tenantId: tenant }))));
    const stream = changes(ctx(feed), 'instance', () => true, (c) => load(c.id));
    const first = stream.next();
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 5; i += 1) feed.emit('change', instanceChange(i));
    const got = [(await first).value];
    for (let i = 1; i < 5; i += 1) got.push((await stream.next()).value);
    expect(got.map((g) => g!.change.id)).toEqual(['i0', 'i1', 'i2', 'i3', 'i4']);
    expect(got.map((g) => g!.row?.id)).toEqual(['i0', 'i1', 'i2', 'i3', 'i4']);
    expect(queries).toEqual([['i0', 'i1', 'i2', 'i3', 'i4']]);
    await stream.return();
  });

  it('that falls more than 1024 changes behind is told so with an error, not left to miss changes silently', async () => {
    const feed = new EventEmitter();
    const stream = changes(ctx(feed), 'instance', () => true, async (c) => ({ id: c.id, tenantId: tenant }));
    const first = stream.next();
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 1100; i += 1) feed.emit('change', instanceChange(i));
    await first;
    let error: unknown;
    try {
      for (;;) if ((await stream.next()).done) break;
    } catch (e) {
      error = e;
    }
    expect(String(error)).toMatch(/fell more than 1024 changes behind; subscribe again and catch up/);
  });
});
