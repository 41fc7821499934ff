import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScript } from './support/script.ts';

/** PRODUCT.md: an acknowledged event is never lost, not by a crash, a restart, a receiver outage, nor a database restart. */
describe('npm run drill, scaled down', () => {
  let out: string;
  afterAll(() => fs.rm(out, { recursive: true, force: true }));

  it('every drill delivers every acknowledged event, and says so', async () => {
    out = await fs.mkdtemp(path.join(os.tmpdir(), 'herald-drill-test-'));
    const { code, output } = await runScript('bench/drill.ts', ['--smoke', '--out', out]);
    expect(code, output).toBe(0);
    expect(output).toMatch(/drill\s+published\s+delivered\s+lost\s+duplicated/);
    const [file] = await fs.readdir(out);
    const { results } = JSON.parse(await fs.readFile(path.join(out, file!), 'utf8'));
    expect(results.map((r: { drill: string }) => r.drill)).toEqual([
      'SIGKILL of the server mid-burst',
      'receiver down for 2 s',
      'PostgreSQL restarted under load',
      'slow receiver: the healthy one',
      'slow receiver: the slow one',
      'dead receiver: the healthy one beside it',
      'receiver down for 4 s, the webhook paused after 10 failures, then resumed',
      'fair share: fast flood, one process',
      'fair share: slow flood, one process',
      'fair share: fast flood, api + two workers',
      'fair share: slow flood, api + two workers',
    ]);
    for (const result of results) {
      expect(result.published, result.drill).toBeGreaterThan(0);
      expect(result.lost, result.drill).toBe(0);
      // Delivered, or (a receiver that never answers in time) still kept by Herald behind its open circuit.
      expect(result.delivered + (result.held ?? 0), result.drill).toBe(result.published);
    }
    expect(output).toContain('server kept running');
    // The fair-share rows measured B's latency quiet and during A's flood, and A's rate alone and beside B.
    for (const result of results.filter((r: { drill: string }) => r.drill.startsWith('fair share'))) {
      expect(result.latency.before.count, result.drill).toBeGreaterThan(0);
      expect(result.latency.during.count, result.drill).toBeGreaterThan(0);
      expect(result.share.aAlonePerSecond, result.drill).toBeGreaterThan(0);
    }
    // The outage drill's webhook was paused by Herald, holding what came meanwhile, and resumed.
    expect(results.find((r: { drill: string }) => r.drill.startsWith('receiver down for 4 s')).note).toMatch(/the webhook was PAUSED \("10 deliveries in a row failed/);
  }, 300_000);
});
