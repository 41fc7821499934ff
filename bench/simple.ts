// A simple delivery run on this machine (`npm run bench:simple`): one Herald process
// on a fresh embedded PostgreSQL, one receiver on loopback, one webhook.
//  1. throughput: N events published in batches of 100, delivered and recorded;
//  2. latency: events published one at a time at a fixed rate; publish returning → receiver.
import fs from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { db } from '../src/db/client.ts';
import { createLogger } from '../src/logger.ts';

const N = Number(process.env.BENCH_EVENTS ?? 5000);
const RATE = Number(process.env.BENCH_RATE ?? 100);
const LATENCY_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const KEY = 'hk_bench_bootstrap_key_000000000000000';

const arrivals = new Map<string, number>();
let onArrival = () => {};
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    arrivals.set(JSON.parse(Buffer.concat(chunks).toString()).entityId, performance.now());
    res.end('ok');
    onArrival();
  });
});
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`;

const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'herald-bench-'));
await fs.chmod(dataDir, 0o755);
const app = await buildApp(
  loadConfig({ ...process.env, HERALD_DATA_DIR: dataDir, HERALD_BOOTSTRAP_KEY: KEY, HERALD_OUTBOUND_ALLOW: '127.0.0.0/8', LOG_LEVEL: 'warn' }),
  createLogger('warn'),
);
const gql = async (query: string, variables?: object) => {
  const response = await app.yoga.fetch('http://bench/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ query, variables }),
  });
  const result = (await response.json()) as { data?: any; errors?: unknown };
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return result.data;
};
const waitFor = (count: number) =>
  new Promise<void>((resolve) => {
    onArrival = () => arrivals.size >= count && resolve();
    onArrival();
  });

await gql('mutation { createTopic(input: { key: "order", name: "Order" }) { key } }');
await gql('mutation($url: String!) { createWebhook(input: { label: "bench", events: ["order.created"], url: $url, active: true }) { secret } }', { url: receiverUrl });
const PUBLISH = 'mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { event { id } } }';

// 1. Throughput.
const started = performance.now();
for (let i = 0; i < N; i += 100) {
  const inputs = Array.from({ length: Math.min(100, N - i) }, (_, j) => ({ event: { topic: 'order', action: 'created', entityId: `t${i + j}`, data: { n: i + j } } }));
  await gql(PUBLISH, { inputs });
}
const publishedMs = performance.now() - started;
await waitFor(N);
const deliveredMs = performance.now() - started;
await new Promise((r) => setTimeout(r, 1500));
const recorded = await db().instance.count({ where: { status: 'COMPLETED' } });

// 2. Latency at a fixed rate.
const publishedAt = new Map<string, number>();
const total = RATE * LATENCY_SECONDS;
const t0 = performance.now();
for (let i = 0; i < total; i += 1) {
  const due = t0 + (i * 1000) / RATE;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const id = `l${i}`;
  void gql(PUBLISH, { inputs: [{ event: { topic: 'order', action: 'created', entityId: id, data: { i } } }] }).then(() => publishedAt.set(id, performance.now()));
}
await waitFor(N + total);
await new Promise((r) => setTimeout(r, 200));
const latencies = [...publishedAt].map(([id, at]) => Math.max(0, arrivals.get(id)! - at)).sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!.toFixed(1);

console.log(`throughput: ${N} events published in ${(publishedMs / 1000).toFixed(2)} s, all delivered in ${(deliveredMs / 1000).toFixed(2)} s → ${(N / (deliveredMs / 1000)).toFixed(0)} deliveries/s (${recorded} instances COMPLETED)`);
console.log(`latency at ${RATE} events/s for ${LATENCY_SECONDS} s (publish returned → receiver got it): p50 ${pct(50)} ms, p95 ${pct(95)} ms, p99 ${pct(99)} ms, max ${latencies.at(-1)!.toFixed(1)} ms`);
await app.stop();
receiver.close();
await fs.rm(dataDir, { recursive: true, force: true });
