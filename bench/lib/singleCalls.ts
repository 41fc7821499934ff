// One event per call: how fast Herald answers a host that publishes the way the seed products fire webhooks
// (one domain change, one call), beside the cheapest authenticated query, and how soon such an event arrives.
import type { Herald } from './cluster.ts';
import type { Receivers } from './receiver.ts';
import { format, percentiles, sleep, table, type Percentiles } from './stats.ts';

export const VIEWER = '{ viewer { role } }';
export const PUBLISH_ONE = 'mutation($input: PublishEventInput!) { publishEvent(input: $input) { instances { id } } }';

/** `clients` callers each sending `call(n)` again as soon as the last answered, for `seconds`: answers calls per second. */
export async function closedLoop(call: (n: number) => Promise<unknown>, clients: number, seconds: number): Promise<{ perSecond: number; calls: number }> {
  let n = 0;
  const until = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < until) await call((n += 1));
    }),
  );
  return { perSecond: Math.round(n / ((performance.now() - t0) / 1000)), calls: n };
}

/** An event of `topic` about entity `id`. */
export const oneEvent = (topic: string, id: string) => ({ input: { event: { topic, action: 'created', entityId: id, data: { entityId: id, status: 'Completed', amount: 42 } } } });

/**
 * Single-event calls at a fixed `rate` for `seconds` (open loop, at most 256 at once): calls per second reached, the
 * publish call's own time, and publish → receiver (sent at the call's start, arrived at the receiver's first byte).
 */
export async function singleEventsAt(herald: Herald, receivers: Receivers, topic: string, route: string, rate: number, seconds: number): Promise<{ rate: number; achievedRate: number; call: Percentiles; delivery: Percentiles }> {
  /** Each delivery's instance id (the receiver's webhook-id) → when its call was sent. */
  const sentAt = new Map<string, number>();
  const callMs: number[] = [];
  const pending = new Set<Promise<void>>();
  const count = Math.round(rate * seconds);
  const t0 = performance.now();
  for (let i = 0; i < count; i += 1) {
    const wait = t0 + (i * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    const started = performance.now();
    const call = herald.gql(PUBLISH_ONE, oneEvent(topic, `${route}-${i}`)).then((data: { publishEvent: { instances: Array<{ id: string }> } }) => {
      callMs.push(performance.now() - started);
      for (const instance of data.publishEvent.instances) sentAt.set(instance.id, started);
    });
    pending.add(call);
    void call.finally(() => pending.delete(call)).catch(() => undefined);
    if (pending.size >= 256) await Promise.race(pending);
  }
  await Promise.all(pending);
  const achievedRate = Math.round(count / ((performance.now() - t0) / 1000));
  const arrivals = receivers.get(route).firstAt;
  await receivers.waitFor(() => [...sentAt.keys()].every((id) => arrivals.has(id)), 60_000, `every ${route} delivery`);
  return { rate, achievedRate, call: percentiles(callMs), delivery: percentiles([...sentAt].map(([id, at]) => Math.max(0, arrivals.get(id)! - at))) };
}

export interface OneEventPerCall {
  viewer: { perSecond: number; calls: number };
  publish: { perSecond: number; calls: number };
  /** publishEvent's rate as a share of the trivial query's (%). */
  share: number;
  atRates: Array<Awaited<ReturnType<typeof singleEventsAt>>>;
}

/** The section: both closed loops (16 clients, `seconds` each, after a warm-up), then 100 and 200 single-event calls/s. */
export async function oneEventPerCall(herald: Herald, receivers: Receivers, topic: string, route: string, seconds: number, during?: { publishing: () => void; published: () => void }): Promise<OneEventPerCall> {
  await closedLoop((n) => herald.gql(PUBLISH_ONE, oneEvent(topic, `warm-${n}`)), 16, Math.min(2, seconds));
  await closedLoop(() => herald.gql(VIEWER), 16, Math.min(1, seconds));
  const viewer = await closedLoop(() => herald.gql(VIEWER), 16, seconds);
  during?.publishing();
  const publish = await closedLoop((n) => herald.gql(PUBLISH_ONE, oneEvent(topic, `closed-${n}`)), 16, seconds);
  during?.published();
  const atRates = [];
  for (const rate of [100, 200]) atRates.push(await singleEventsAt(herald, receivers, topic, route, rate, seconds));
  return { viewer, publish, share: Math.round((publish.perSecond / viewer.perSecond) * 100), atRates };
}

/** The section's tables. */
export function oneEventPerCallReport(r: OneEventPerCall, label = ''): string[] {
  return [
    table([`one event per call${label}: closed loop, 16 clients`, 'calls/s'], [['{ viewer { role } }', format(r.viewer.perSecond)], ['publishEvent (one event, one webhook)', format(r.publish.perSecond)], ['publish ÷ viewer', `${r.share}%`]]),
    '',
    table(['single-event calls (ms)', 'calls/s reached', 'call p50', 'call p99', '→ receiver p50', 'p99', 'max'], r.atRates.map((a) => [`${a.rate}/s asked`, a.achievedRate, a.call.p50, a.call.p99, a.delivery.p50, a.delivery.p99, a.delivery.max])),
  ];
}
