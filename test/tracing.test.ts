import { fork, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY } from './support/app.ts';
import { createTestDatabase } from './support/database.ts';
import { eventually, Receiver } from './support/receiver.ts';

interface SpanSeen {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Record<string, unknown>;
  status: { code: number };
  role: string;
}

const SpanKind = { INTERNAL: 0, SERVER: 1, CLIENT: 2, PRODUCER: 3, CONSUMER: 4 };

/** A Herald process forked with the in-memory exporter (test/support/traced-server.ts). */
class Traced {
  url = '';
  private constructor(private readonly child: ChildProcess) {}

  static async start(env: Record<string, string>): Promise<Traced> {
    const child = fork(new URL('./support/traced-server.ts', import.meta.url).pathname, [], { execArgv: ['--import', 'tsx'], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const traced = new Traced(child);
    traced.url = await new Promise<string>((resolve, reject) => {
      child.once('message', (m: { url: string }) => resolve(m.url));
      child.once('exit', (code) => reject(new Error(`the traced server exited with ${code}`)));
    });
    return traced;
  }

  spans(): Promise<SpanSeen[]> {
    return new Promise((resolve) => {
      this.child.once('message', (m: { spans: SpanSeen[] }) => resolve(m.spans));
      this.child.send('spans');
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.send('stop');
    });
  }
}

describe('OpenTelemetry traces from publishEvent to the receiver, across an api and a worker process', () => {
  let api: Traced;
  let worker: Traced;
  let collector: Server;
  const exported: Array<{ contentType: string | undefined; body: any }> = [];

  beforeAll(async () => {
    // An OTLP/HTTP collector on loopback: what HERALD_TRACES_ENDPOINT sends to.
    collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        exported.push({ contentType: req.headers['content-type'], body: JSON.parse(Buffer.concat(chunks).toString() || '{}') });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;
    const env = { DATABASE_URL: await createTestDatabase(), HERALD_BOOTSTRAP_KEY: ADMIN_KEY, HERALD_OUTBOUND_ALLOW: '127.0.0.0/8', HERALD_TRACES_ENDPOINT: endpoint, HERALD_MIN_BACKOFF_MS: '20' };
    api = await Traced.start({ ...env, HERALD_ROLE: 'api' });
    worker = await Traced.start({ ...env, HERALD_ROLE: 'worker' });
  }, 90_000);
  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    collector?.close();
  });

  const gql = async (query: string, variables?: object, headers: Record<string, string> = {}) => {
    const response = await fetch(api.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}`, ...headers }, body: JSON.stringify({ query, variables }) });
    const body = (await response.json()) as { data?: any; errors?: unknown[] };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };

  it("continues the caller's trace: publish (api) → delivery (worker) → HTTP request → recording, and the receiver gets traceparent", async () => {
    const receiver = await Receiver.start((_, i) => ({ status: i === 0 ? 503 : 200 }));
    await gql('mutation { createTopic(input: { key: "course", name: "Course" }) { key } }');
    const create = 'mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id traceContext } } }';
    const traced = (await gql(create, { input: { label: 'traced', events: ['course.created'], url: receiver.url, active: true, traceContext: true, retryScheduleMs: [20] } })).createWebhook.webhook;
    expect(traced.traceContext).toBe(true);
    const plainReceiver = await Receiver.start();
    await gql(create, { input: { label: 'plain', events: ['course.created'], url: plainReceiver.url, active: true } });

    // The host application's own trace, as its HTTP client sends it.
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    await gql('mutation { publishEvent(input: { event: { topic: "course", action: "created", entityId: "c1", data: {} } }) { event { id } } }', undefined, { traceparent: `00-${callerTrace}-${callerSpan}-01` });
    await receiver.waitFor(2); // a 503, then the retry's 200
    await plainReceiver.waitFor(1);

    const [apiSpans, workerSpans] = await eventually(async () => {
      const both = [await api.spans(), await worker.spans()] as const;
      return both[1].filter((s) => s.name === 'herald.deliver').length >= 3 ? both : undefined;
    }, 20_000, 'the worker to finish three delivery spans');
    const publish = apiSpans.find((s) => s.name === 'herald.publish')!;
    expect(publish).toMatchObject({ kind: SpanKind.PRODUCER, traceId: callerTrace, parentSpanId: callerSpan, role: 'api' });
    expect(publish.attributes['herald.deliveries']).toBe(2);

    const mine = workerSpans.filter((s) => s.traceId === callerTrace);
    const deliveries = mine.filter((s) => s.name === 'herald.deliver');
    expect(deliveries).toHaveLength(3); // two webhooks, one of them retried
    for (const delivery of deliveries) {
      expect(delivery).toMatchObject({ kind: SpanKind.CONSUMER, parentSpanId: publish.spanId, role: 'worker' });
      const children = mine.filter((s) => s.parentSpanId === delivery.spanId);
      expect(children.map((s) => s.name).sort()).toEqual(['POST', 'herald.record']);
      expect(children.find((s) => s.name === 'POST')!.kind).toBe(SpanKind.CLIENT);
    }
    const statuses = deliveries.map((d) => d.attributes['herald.delivery.status']).sort();
    expect(statuses).toEqual(['COMPLETED', 'COMPLETED', 'RETRYING']);
    const requests = mine.filter((s) => s.name === 'POST');
    expect(requests.map((r) => r.attributes['http.response.status_code']).sort()).toEqual([200, 200, 503]);
    // No URL in the spans: a receiver's URL may carry a token.
    for (const r of requests) expect(JSON.stringify(r.attributes)).not.toContain('http://');

    // The opted-in receiver got the context of each request's own span; the other none.
    for (const request of receiver.received) {
      const [, traceId, spanId] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(String(request.headers.traceparent))!;
      expect(traceId).toBe(callerTrace);
      expect(requests.map((r) => r.spanId)).toContain(spanId);
    }
    expect(plainReceiver.received[0]!.headers.traceparent).toBeUndefined();

    // And the spans went to the OTLP endpoint (JSON over HTTP), from both processes.
    await eventually(async () => {
      const names = new Set(exported.flatMap((e) => e.body.resourceSpans ?? []).flatMap((r: any) => r.scopeSpans.flatMap((s: any) => s.spans.map((x: any) => x.name))));
      return names.has('herald.publish') && names.has('herald.deliver') && names.has('herald.record') ? true : undefined;
    }, 20_000, 'the spans at the OTLP collector');
    expect(exported[0]!.contentType).toBe('application/json');
  }, 60_000);
});
