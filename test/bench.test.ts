import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScript } from './support/script.ts';

describe('npm run bench:grid, scaled down', () => {
  it('pushes status changes into the Deliveries grid in Chromium and reports its long tasks and frames', async () => {
    const out = await fs.mkdtemp(path.join(os.tmpdir(), 'herald-grid-test-'));
    try {
      const { code, output } = await runScript('bench/grid.ts', ['--smoke', '--out', out]);
      expect(code, output).toBe(0);
      expect(output).toContain('longest task');
      const results = JSON.parse(await fs.readFile(path.join(out, (await fs.readdir(out)).find((f) => f.endsWith('.json'))!), 'utf8'));
      expect(results.messages).toBeGreaterThan(100);
      // The page drew frames and showed the newest delivery's last status.
      expect(results.frames).toBeGreaterThan(0);
      expect(results.rows).toBeGreaterThan(0);
      expect(results.caughtUpMs).not.toBeNull();
    } finally {
      await fs.rm(out, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('npm run bench, scaled down', () => {
  let out: string;
  afterAll(() => out && fs.rm(out, { recursive: true, force: true }));

  it('measures the limits and Herald end to end, prints the table and writes the results and the picture', async () => {
    out = await fs.mkdtemp(path.join(os.tmpdir(), 'herald-bench-test-'));
    const { code, output } = await runScript('bench/bench.ts', ['--smoke', '--out', out]);
    expect(code, output).toBe(0);
    for (const line of ['the median share of the HTTP limit', 'pg-boss alone', 'HTTP alone', 'pg-boss + got', 'graphile-worker + got', 'Herald ÷ pg-boss + got ≥ 2', 'Herald, 1 webhook', 'Herald, 10 webhooks', 'publishEvent → receiver', 'status change → subscriber', 'CPU per item', 'per delivery', 'one event per call: closed loop, 16 clients', 'single-event calls (ms)', '50% of pg-boss is', 'server peak memory']) {
      expect(output).toContain(line);
    }
    const files = await fs.readdir(out);
    const json = files.find((f) => f.endsWith('.json'))!;
    const results = JSON.parse(await fs.readFile(path.join(out, json), 'utf8'));
    // Every delivery of both fan-outs reached the receiver and was recorded.
    expect(results.herald.fanout1.received).toBe(results.herald.fanout1.deliveries);
    expect(results.herald.fanout10.received).toBe(results.herald.fanout10.deliveries);
    expect(results.herald.fanout10.deliveries).toBe(10 * results.herald.fanout10.events);
    // Metrics on (scraped) and off were measured in every round, each delivering everything.
    expect(output).toContain('Herald, 1 webhook, metrics off');
    expect(results.herald.metricsOff.received).toBe(results.herald.metricsOff.deliveries);
    expect(results.herald.tracing.received).toBe(results.herald.tracing.deliveries);
    for (const r of results.rounds) expect([r.metricsOff, r.tracing, r.earlier].every((n: number) => n > 0)).toBe(true);
    // And the server as it was before tenants shared the workers, built from that commit, delivering everything too.
    expect(output).toContain(`Herald, 1 webhook, at an earlier commit (${results.earlierCommit})`);
    expect(results.herald.earlier.received).toBe(results.herald.earlier.deliveries);
    // The limits, the build-it-yourself peers and Herald with 1 webhook were measured in turn, twice; the round reported is one of them (the median share of HTTP).
    expect(results.rounds.map((r: any) => r.round)).toEqual([1, 2]);
    const reported = results.rounds.find((r: any) => r.round === results.reportedRound);
    expect(reported).toMatchObject({
      pgBoss: results.limits.pgBoss.perSecond, http: results.limits.http.perSecond, pgBossGot: results.limits.pgBossGot.perSecond,
      graphileGot: results.limits.graphileGot.perSecond, fanout1: results.herald.fanout1.perSecond,
    });
    expect(reported.fanout1 / reported.http).toBe(Math.min(...results.rounds.map((r: any) => r.fanout1 / r.http)));
    expect(results.limits.pgBoss.count).toBeGreaterThan(0);
    expect(results.limits.http.count).toBeGreaterThan(0);
    // Each peer delivered every one (the bench refuses a run where its receiver missed any).
    expect([results.limits.pgBossGot.count, results.limits.graphileGot.count]).toEqual([300, 300]);
    // Every event of the latency runs was timed, and every COMPLETED change reached the subscriber.
    expect(results.latency.moderate.count).toBeGreaterThan(0);
    expect(results.latency.nearSaturation.count).toBeGreaterThan(0);
    expect(results.subscription.count).toBe(results.latency.moderate.count);
    expect(results.peakMemoryMb).toBeGreaterThan(0);
    // Where the CPU went: each tested process and PostgreSQL were seen working (/proc accounting found them).
    for (const cpu of [results.limits.pgBoss.cpu, results.limits.http.cpu, results.limits.pgBossGot.cpu, results.limits.graphileGot.cpu, results.herald.fanout1.cpu, results.herald.metricsOff.cpu]) {
      expect(cpu.machine).toBeGreaterThan(0);
      expect(cpu.groups.client ?? cpu.groups.herald).toBeGreaterThan(0);
    }
    expect(results.limits.pgBoss.cpu.groups.postgres).toBeGreaterThan(0);
    expect(results.herald.fanout1.cpu.groups.postgres).toBeGreaterThan(0);
    expect(results.limits.http.cpu.groups.bench).toBeGreaterThan(0);
    expect(results.targets.map((t: any) => t.target)).toContain('Herald ÷ graphile-worker + got ≥ 2');
    expect(results.targets).toHaveLength(9);
    expect(results.targets.map((t: any) => t.target)).toContain('publishEvent calls/s ≥ 50% of { viewer { role } }');
    // One event per call: both closed loops answered, and every single-event call's delivery arrived (it is timed).
    expect(results.singleCalls.viewer.calls).toBeGreaterThan(0);
    expect(results.singleCalls.publish.calls).toBeGreaterThan(0);
    expect(results.singleCalls.atRates.map((a: any) => [a.rate, a.delivery.count > 0, a.call.count])).toEqual([[100, true, 100], [200, true, 200]]);
    const svg = await fs.readFile(path.join(out, files.find((f) => f.endsWith('.svg'))!), 'utf8');
    expect(svg).toMatch(/^<svg[^>]*>[\s\S]*Herald, 10 webhooks[\s\S]*<\/svg>$/);
  }, 240_000);

  it('npm run bench:publish measures one event per call, lists the statements per call and what sessions wait for', async () => {
    const { code, output } = await runScript('bench/publish.ts', ['--seconds', '1', '--statements', '--waits']);
    expect(code, output).toBe(0);
    for (const line of ['one event per call: closed loop, 16 clients', 'publish ÷ viewer', '100/s asked', '200/s asked', 'statement (from the publish loop on)', 'waiting for, in (the publish loop)']) expect(output).toContain(line);
    // The publish's own store statement ran about once per call.
    expect(output).toMatch(/^1\.\d\d +\S+ +WITH stored AS/m);
  }, 180_000);

  it('npm run bench:scale measures publishing with one and with many webhooks on the topic (each case matching one), reads at a small and a large history, and dashboards watching', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'herald-scale-test-'));
    try {
      const { code, output } = await runScript('bench/scale.ts', ['--smoke', '--out', dir]);
      // The script itself refuses a case whose event matched other than exactly one webhook.
      expect(code, output).toBe(0);
      for (const line of ['1 webhook on the topic', '200 on the topic, 1 matching by event type', '200 on the topic, 1 matching by clientId condition', 'target: ≤ 2×', 'reads at 1,000 vs 20,001 stored deliveries', 'webhook list with stats', 'events of an entity', 'deliveries of an entity', 'with dashboards watching the webhook', 'COMPLETED → subscriber p50', 'subscriber p99 under 250 ms', 'the nightly purge deleting 1,000 deliveries 40 days old', 'cost per deleted delivery', 'stored per delivery', 'five webhooks per event, one envelope']) expect(output).toContain(line);
      expect(await fs.readFile(path.join(dir, 'scale-smoke.txt'), 'utf8')).toContain('p50 ratio');
      // Every watcher got every COMPLETED change of its run (1 and 20 watchers on one process, 20 on an api process apart from the worker; 40 deliveries each).
      expect(output).toMatch(/^1 +one process +\S+ +\S+ +40 /m);
      expect(output).toMatch(/^20 +one process +\S+ +\S+ +40 /m);
      expect(output).toMatch(/^20 +api apart from the worker +\S+ +\S+ +40 /m);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
