// `npm run bench:grid`: how the dashboard's live Deliveries grid holds under a burst of
// status changes (issue 19). A real Herald serves the dashboard and answers its queries;
// the grid's live connection is answered here instead (graphql-ws, through Chromium's
// own WebSocket), and `instanceUpdated` messages are pushed at --rate per second for
// --seconds: new deliveries arriving PENDING, then SENDING, then COMPLETED (a third
// RETRYING first), as a busy tenant's would. Chromium reports its long tasks (main-thread
// work of 50 ms or more) and the page measures the longest gap between frames.
//   --smoke            a few seconds at a low rate (the test suite runs this, with --out elsewhere)
//   --rate <n>         messages per second (default 500)
//   --seconds <n>      how long (default 60)
//   --out <dir>        where results go (default bench/results)
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { WebSocketRoute } from 'playwright-core';
import { launchChromium } from '../test/support/chromium.ts';
import { buildForStart, createTopic, createWebhook, Herald, KEY, Postgres } from './lib/cluster.ts';
import { commit } from './lib/commit.ts';
import { format, sleep, table } from './lib/stats.ts';

const { values: args } = parseArgs({ options: { smoke: { type: 'boolean', default: false }, rate: { type: 'string' }, seconds: { type: 'string' }, out: { type: 'string', default: 'bench/results' } } });
const RATE = Number(args.rate ?? (args.smoke ? 50 : 500));
const SECONDS = Number(args.seconds ?? (args.smoke ? 3 : 60));
/** Messages are pushed in slices this far apart (a burst arrives in clumps, not evenly). */
const SLICE_MS = 20;

interface Measured {
  messages: number;
  seconds: number;
  longTasks: number[];
  maxFrameGapMs: number;
  frames: number;
  domNodes: number;
  rows: number;
  heapMb: number;
  /** Whether the newest delivery pushed is on the screen with its last status once the burst ends. */
  caughtUpMs: number | null;
}

/** The deliveries of the burst: each arrives PENDING and moves on with later messages. */
function* updates(webhook: { id: string; label: string }) {
  const started = Date.now();
  const moving: Array<{ id: string; steps: string[]; createdAt: string; n: number }> = [];
  for (let n = 0; ; n += 1) {
    // One message in three starts a delivery; the others move one on (oldest first).
    if (n % 3 === 0 || moving.length === 0) {
      const id = `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`;
      moving.push({ id, steps: n % 9 === 0 ? ['PENDING', 'SENDING', 'RETRYING', 'SENDING', 'COMPLETED'] : ['PENDING', 'SENDING', 'COMPLETED'], createdAt: new Date(started + n).toISOString(), n });
    }
    const delivery = n % 3 === 0 ? moving.at(-1)! : moving[0]!;
    const status = delivery.steps.shift()!;
    if (delivery.steps.length === 0) moving.splice(moving.indexOf(delivery), 1);
    const done = status === 'COMPLETED';
    yield {
      id: delivery.id,
      status,
      attempts: status === 'PENDING' ? 0 : status === 'COMPLETED' ? 1 : 1,
      held: false,
      entityId: `e-${delivery.n}`,
      createdAt: delivery.createdAt,
      updatedAt: new Date().toISOString(),
      nextAttemptAt: status === 'RETRYING' ? new Date(Date.now() + 5000).toISOString() : null,
      lastStatusCode: done ? 200 : status === 'RETRYING' ? 503 : null,
      lastMessage: done ? '200 OK' : status === 'RETRYING' ? '503 Service Unavailable' : null,
      lastErrorKind: status === 'RETRYING' ? 'HTTP_STATUS' : null,
      lastDurationMs: done || status === 'RETRYING' ? 12 : null,
      webhook,
      event: { type: 'order.created' },
    };
  }
}

buildForStart();
const postgres = await Postgres.start();
const herald = new Herald({ DATABASE_URL: await postgres.database('herald') });
const browser = await launchChromium();
try {
  await herald.start();
  await createTopic(herald, 'order');
  const webhookId = await createWebhook(herald, { label: 'orders', events: ['order.created'], url: 'http://127.0.0.1:9/' });
  const origin = new URL(herald.url).origin;

  const page = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // (A script's text, not a function: tsx's helpers would not exist in the page.)
  await page.addInitScript({
    content: `
      sessionStorage.setItem('herald.apiKey', ${JSON.stringify(KEY)});
      window.__grid = { longTasks: [], maxFrameGap: 0, frames: 0, measuring: false };
      new PerformanceObserver((list) => {
        if (window.__grid.measuring) for (const e of list.getEntries()) window.__grid.longTasks.push(e.duration);
      }).observe({ type: 'longtask' });
      let last = performance.now();
      requestAnimationFrame(function frame(now) {
        if (window.__grid.measuring) {
          window.__grid.maxFrameGap = Math.max(window.__grid.maxFrameGap, now - last);
          window.__grid.frames += 1;
        }
        last = now;
        requestAnimationFrame(frame);
      });`,
  });
  // The grid's live connection: graphql-ws answered here (acknowledged, pings answered), its subscriptions noted.
  const live: { socket?: WebSocketRoute; subscription?: string } = {};
  await page.routeWebSocket(/\/graphql$/, (ws) => {
    live.socket = ws;
    ws.onMessage((text) => {
      const message = JSON.parse(String(text));
      if (message.type === 'connection_init') ws.send(JSON.stringify({ type: 'connection_ack' }));
      else if (message.type === 'ping') ws.send(JSON.stringify({ type: 'pong' }));
      else if (message.type === 'subscribe' && String(message.payload.query).includes('instanceUpdated')) live.subscription = message.id;
    });
  });
  await page.goto(`${origin}/#/deliveries`);
  await page.getByText('● live').waitFor({ timeout: 30_000 });
  for (let i = 0; !live.subscription; i += 1) {
    if (i > 200) throw new Error('the grid did not subscribe to instanceUpdated');
    await sleep(50);
  }

  await page.evaluate(() => ((window as any).__grid.measuring = true));
  const source = updates({ id: webhookId, label: 'orders' });
  const started = performance.now();
  let sent = 0;
  let last: { id: string; status: string } | undefined;
  while (performance.now() - started < SECONDS * 1000) {
    const due = Math.floor(((performance.now() - started) / 1000) * RATE);
    for (; sent < due; sent += 1) {
      const row = source.next().value!;
      last = { id: row.id, status: row.status };
      live.socket!.send(JSON.stringify({ id: live.subscription, type: 'next', payload: { data: { instanceUpdated: row } } }));
    }
    await sleep(SLICE_MS);
  }
  const seconds = (performance.now() - started) / 1000;
  // Caught up: the newest delivery shows its last status (a virtualised grid shows the newest rows, at the top).
  const ended = performance.now();
  let caughtUpMs: number | null = null;
  try {
    await page.locator(`tr[data-instance="${last!.id}"][data-status="${last!.status}"]`).waitFor({ timeout: 30_000 });
    caughtUpMs = performance.now() - ended;
  } catch {
    caughtUpMs = null;
  }
  await page.evaluate(() => ((window as any).__grid.measuring = false));
  // The heap that stays (garbage collected first, through the debugger).
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const page_ = await page.evaluate(() => {
    const g = (window as any).__grid;
    return {
      longTasks: g.longTasks as number[],
      maxFrameGapMs: g.maxFrameGap as number,
      frames: g.frames as number,
      domNodes: document.getElementsByTagName('*').length,
      rows: document.querySelectorAll('tr[data-instance]').length,
      heapMb: ((performance as any).memory?.usedJSHeapSize ?? 0) / 1e6,
    };
  });
  if (errors.length) throw new Error(`the page threw: ${errors.join('; ')}`);
  const measured: Measured = { messages: sent, seconds, ...page_, caughtUpMs };
  const longest = Math.max(0, ...measured.longTasks);
  const busy = measured.longTasks.reduce((a, b) => a + b, 0);
  const report = [
    `Deliveries grid under injected instanceUpdated messages (${new Date().toISOString()}, commit ${commit()})`,
    `${measured.messages} messages in ${format(measured.seconds)} s (${format(measured.messages / measured.seconds)}/s), Chromium ${browser.version()}`,
    '',
    table(
      ['longest task', 'long tasks', 'in long tasks', 'longest frame gap', 'frames/s', 'rows in the DOM', 'DOM nodes', 'JS heap kept', 'caught up after'],
      [[`${format(longest)} ms`, measured.longTasks.length, `${format((busy / 1000 / measured.seconds) * 100)}%`, `${format(measured.maxFrameGapMs)} ms`, format(measured.frames / measured.seconds), measured.rows, measured.domNodes, `${format(measured.heapMb)} MB`, measured.caughtUpMs === null ? 'never (30 s)' : `${format(measured.caughtUpMs)} ms`]],
    ),
  ].join('\n');
  console.log(report);
  {
    await fs.mkdir(args.out!, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    await fs.writeFile(path.join(args.out!, `grid-${stamp}.json`), JSON.stringify({ date: new Date().toISOString(), commit: commit(), rate: RATE, ...measured, longTasks: undefined, longestTaskMs: longest, longTaskCount: measured.longTasks.length, longTaskMs: busy }, null, 2));
    await fs.writeFile(path.join(args.out!, 'grid.txt'), `${report}\n`);
  }
} finally {
  await browser.close();
  await herald.stop();
  await postgres.stop();
}
