// The fair scheduler (src/delivery/scheduler.ts): a worker's places given in turn over
// tenants (by weight), then over each tenant's webhooks, with the last tenth kept for
// tenants that hold few. Units started are never released here: as if every receiver
// took its time, which is when places are scarce.
import { describe, expect, it } from 'vitest';
import type { Job } from '../src/delivery/ledger.ts';
import { FairScheduler, reserveOf, type Unit } from '../src/delivery/scheduler.ts';

function schedulerOf(places: number, weights: Record<string, number> = {}, webhookConcurrency = 1000) {
  const started: Unit[] = [];
  const scheduler = new FairScheduler({ workerConcurrency: places, webhookConcurrency, breakerFailures: 10 }, (units) => started.push(...units), () => undefined, (lane) => weights[lane] ?? 1);
  let n = 0;
  const add = (lane: string, webhook: string, count: number) => {
    const job = { id: `job-${(n += 1)}`, name: lane, groupId: webhook, retryCount: 0, data: { instanceIds: [], trigger: 'AUTO' } } as unknown as Job;
    scheduler.enqueue(job, Array.from({ length: count }, (_, i) => `${webhook}-${n}-${i}`), false);
  };
  const byLane = () => started.reduce<Record<string, number>>((m, u) => ((m[u.job.name] = (m[u.job.name] ?? 0) + 1), m), {});
  return { scheduler, add, started, byLane };
}

describe('the fair scheduler', () => {
  it('keeps a tenth of the places for tenants that hold few', () => {
    expect(reserveOf(200)).toEqual({ reserve: 20, light: 5 });
    expect(reserveOf(9)).toEqual({ reserve: 0, light: 1 });
  });

  it('gives places to tenants by weight while both have deliveries waiting', () => {
    const { scheduler, add, byLane } = schedulerOf(40, { heavy: 3 });
    add('heavy', 'h1', 100);
    add('heavy', 'h2', 100);
    add('light', 'l1', 100);
    scheduler.startWaiting();
    // 36 places (4 kept): three for one.
    expect(byLane()).toEqual({ heavy: 27, light: 9 });
  });

  it('gives a tenant with 500 webhooks no more places than a tenant with one', () => {
    const { scheduler, add, byLane, started } = schedulerOf(40);
    for (let i = 0; i < 500; i += 1) add('many', `m${i}`, 2);
    add('one', 'o1', 100);
    scheduler.startWaiting();
    expect(byLane()).toEqual({ many: 18, one: 18 });
    // Within the tenant, one place per webhook in turn.
    expect(new Set(started.filter((u) => u.job.name === 'many').map((u) => u.job.groupId)).size).toBe(18);
  });

  it('a tenant alone takes all but the kept places; another that comes takes a kept one at once', () => {
    const { scheduler, add, byLane } = schedulerOf(200);
    add('alone', 'a1', 100);
    add('alone', 'a2', 100);
    add('alone', 'a3', 100);
    scheduler.startWaiting();
    expect(byLane()).toEqual({ alone: 180 });
    add('newcomer', 'n1', 10);
    scheduler.startWaiting();
    // As many as a tenant holding few may take: 5.
    expect(byLane()).toEqual({ alone: 180, newcomer: 5 });
  });

  it('sends no more to one webhook than HERALD_WEBHOOK_CONCURRENCY', () => {
    const { scheduler, add, byLane } = schedulerOf(200, {}, 25);
    add('t', 'slow', 100);
    scheduler.startWaiting();
    expect(byLane()).toEqual({ t: 25 });
    expect(scheduler.busyWebhooks('t')).toEqual(['slow']);
  });

  it("a place freed goes to the tenant holding the fewest for its weight, never into the kept ones but for a tenant that holds few", async () => {
    const { scheduler, add, started, byLane } = schedulerOf(20);
    add('a', 'a1', 50);
    scheduler.startWaiting();
    expect(byLane()).toEqual({ a: 18 });
    add('b', 'b1', 50);
    scheduler.startWaiting();
    expect(byLane()).toEqual({ a: 18, b: 1 });
    const freed = async (unit: Unit) => {
      scheduler.release(unit);
      await new Promise((resolve) => setImmediate(resolve));
    };
    // One of A's finishes: two free, both kept; B holds one already.
    await freed(started[0]!);
    expect(byLane()).toEqual({ a: 18, b: 1 });
    // Another: three free, one to give, and it goes to B (1 held) rather than A (16).
    await freed(started[1]!);
    expect(byLane()).toEqual({ a: 18, b: 2 });
    // Until they hold as many (nine each): A's places go to B as they free.
    for (let i = 2; i < 9; i += 1) await freed(started[i]!);
    expect(byLane()).toEqual({ a: 18, b: 9 });
  });
});
