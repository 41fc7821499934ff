import { describe, expect, it } from 'vitest';
import type { Prisma } from '../src/generated/prisma/client.ts';
import * as batches from '../src/store/sql/batches.ts';
import * as catalog from '../src/store/sql/catalog.ts';
import * as events from '../src/store/sql/events.ts';
import * as gates from '../src/store/sql/gates.ts';
import * as inboxes from '../src/store/sql/inboxes.ts';
import * as instances from '../src/store/sql/instances.ts';
import * as tenants from '../src/store/sql/tenants.ts';
import * as topics from '../src/store/sql/topics.ts';
import * as retention from '../src/store/sql/retention.ts';
import * as series from '../src/store/sql/series.ts';
import * as webhooks from '../src/store/sql/webhooks.ts';
import fs from 'node:fs';
import { fromRoot } from '../src/paths.ts';
import pg from 'pg';
import { inline } from '../src/db/client.ts';
import { CHANNEL } from '../src/pubsub/changes.ts';
import { createTestDatabase, runSql } from './support/database.ts';
import { eventually } from './support/receiver.ts';

/**
 * Every hand-written statement (src/store/sql/) is planned by PostgreSQL against the
 * migrated schema: a migration that renames, drops or retypes what one uses fails here.
 * Each module's every statement must be listed, with its variants.
 */
const id = '0190a4b2-0000-7000-8000-000000000001';
const other = '0190a4b2-0000-7000-8000-000000000002';
const now = new Date('2026-12-02T00:00:00Z');
const wanted = [{ instanceId: id, takeOver: true, retry: false, manual: true }];
const event = {
  id, tenantId: other, topic: 'user', action: 'created', entityId: 'u1', data: { a: 1 }, previous: null, changedFields: [], actor: null,
  clientId: null, correlationId: null, idempotencyKey: 'k', occurredAt: now, createdAt: now,
};
const instance = {
  id, tenantId: other, webhookId: other, eventId: id, entityId: 'u1', status: 'PENDING', held: false, parked: false, attempts: 0, nextAttemptAt: null,
  payload: {}, request: null, lastStatusCode: null, lastMessage: null, lastDurationMs: null, lastErrorKind: null, createdAt: now, updatedAt: now,
};
const recorded = {
  instanceId: id, attemptId: other, number: 1, trigger: 'AUTO', startedAt: now, durationMs: 3, statusCode: 500, errorKind: 'HTTP_STATUS', message: '500',
  responseBody: 'x', location: null, status: 'RETRYING', nextAttemptAt: now, request: { method: 'POST' },
};
const range = { since: now, until: now, entityId: null, after: null };
const delta = { tenantId: other, webhookId: other, minute: now, succeeded: 0, failed: 1, completed: 0, retrying: 1, givenUp: 0, durationMsSum: 3, durations: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] };
const capture = { id, inboxId: other, method: 'POST', path: '/', headers: { a: 'b' }, body: '{}', truncated: false, signatureValid: null, signatureMessage: null };

const statements: Record<string, Record<string, Array<() => Prisma.Sql>>> = {
  batches: { lockBatches: [() => batches.lockBatches(id)], lockOpenBatch: [() => batches.lockOpenBatch(id)] },
  catalog: { version: [() => catalog.version(id)], catalog: [() => catalog.catalog(id, ['user'])] },
  events: {
    store: [() => events.store([event as never], [instance as never]), () => events.store([event as never], [])],
    notReceived: [
      () => events.notReceived(id, { id, topics: ['user'], batching: false }, range, 500),
      () => events.notReceived(id, { id, topics: ['user'], batching: true }, { ...range, entityId: 'u1', after: { createdAt: now, id } }, 500),
    ],
  },
  gates: {
    lockGate: [() => gates.lockGate(id)],
    createGate: [() => gates.createGate(id)],
    admitted: [() => gates.admitted(id, { tokens: 1.5, tokensAt: now, openUntil: null, probeInstanceId: null })],
    recorded: [
      () => gates.recorded(id, { failing: 1, openUntil: now, probeMs: 5000, probeId: other, window: 2, reason: undefined }),
      () => gates.recorded(id, { failing: 0, openUntil: null, probeMs: 0, probeId: null, window: null, reason: 'why' }),
    ],
    resetGate: [() => gates.resetGate(id)],
    lockProbe: [() => gates.lockProbe(id)],
    circuit: [() => gates.circuit(id)],
  },
  inboxes: {
    saveCapture: [() => inboxes.saveCapture(capture, 100, '{}')],
    secretHeaderNames: [() => inboxes.secretHeaderNames(id, other, id), () => inboxes.secretHeaderNames(id, null, null)],
  },
  instances: {
    claim: [() => instances.claim(wanted, { gate: 'skip' }), () => instances.claim(wanted, { gate: 'through' })],
    failUnrecorded: [() => instances.failUnrecorded([id])],
    orderedOf: [() => instances.orderedOf([id])],
    settle: [() => instances.settle([recorded], [delta])],
    holdFailedRun: [() => instances.holdFailedRun(id, other)],
    announceAll: [() => instances.announceAll([{ k: 'instance', t: id, id: other, w: id, s: 'COMPLETED' }])],
    cancel: [() => instances.cancel(id, 'cancelled by a person')],
    requeue: [() => instances.requeue([id])],
    requeueable: [() => instances.requeueable([id])],
    lockEntity: [() => instances.lockEntity(id, 'u1')],
    lockEntities: [() => instances.lockEntities(id, ['u1', 'u2'])],
    onItsWay: [() => instances.onItsWay(id, 'u1')],
    releaseHeads: [() => instances.releaseHeads(id, ['u1'])],
    cancelWaiting: [() => instances.cancelWaiting(other, id, 2000, 'cancelled: the webhook was turned off')],
    holdWaiting: [() => instances.holdWaiting(other, id, 2000)],
    releaseHeld: [() => instances.releaseHeld(id, 2000, true)],
    unpark: [() => instances.unpark(id, 2000)],
    unparkOldest: [() => instances.unparkOldest(id)],
    park: [() => instances.park([id], [])],
    discardHeld: [() => instances.discardHeld(id, 2000)],
    countInStatus: [() => instances.countInStatus(id, 'PAUSED'), () => instances.countInStatus(id, 'SENDING')],
    statusGroups: [() => instances.statusGroups([id, other])],
    rollUpCounts: [() => instances.rollUpCounts(10_000)],
    statusTotals: [() => instances.statusTotals()],
    waitingByTenant: [() => instances.waitingByTenant([id, other])],
  },
  tenants: { keyByHash: [() => tenants.keyByHash('h')], lockTenant: [() => tenants.lockTenant(id)], setupLock: [() => tenants.setupLock(1)], deliveryWeights: [() => tenants.deliveryWeights([id, other])], takePublishTokens: [() => tenants.takePublishTokens(id, 10, { rate: 5, burst: 20 })], returnPublishTokens: [() => tenants.returnPublishTokens(id, 10, { burst: 20 })] },
  topics: { topics: [() => topics.topics(id)], tenantTopics: [() => topics.tenantTopics(id)] },
  retention: {
    purgeInstances: [() => retention.purgeInstances(other, id, other, now, 2000)],
    purgeEvents: [() => retention.purgeEvents(other, id, other, now)],
    purgeBatches: [() => retention.purgeBatches(other, now, 2000)],
    retentionPeriods: [() => retention.retentionPeriods()],
    purgeInboxes: [() => retention.purgeInboxes(now)],
    purgePortalSessions: [() => retention.purgePortalSessions(now)],
  },
  webhooks: {
    countFailures: [() => webhooks.countFailures(id, 2, true)],
    stateOf: [() => webhooks.stateOf(id)],
    resealLock: [() => webhooks.resealLock(1)],
    notSealedWith: [() => webhooks.notSealedWith('hsec1:k:%')],
    alertFacts: [() => webhooks.alertFacts(id, other)],
    matching: [() => webhooks.matching(id, ['user'])],
  },
  series: {
    appendDeltas: [() => series.appendDeltas([delta])],
    foldDeltas: [() => series.foldDeltas(5000)],
    dropMinutes: [() => series.dropMinutes(now, 5000)],
    purgeHours: [() => series.purgeHours(id, now, 2000)],
    series: [() => series.series(id, other, 'minute', 60_000, now, now), () => series.series(id, series.TENANT_TOTAL, 'hour', 86_400_000, now, now)],
  },
};
/** Parts of statements, not statements: planned within the ones that use them. */
const FRAGMENTS = ['catalog.VERSION', 'instances.announce', 'instances.ANNOUNCE_CHANGED', 'instances.CLAIMED_WEBHOOK', 'gates.GATED', 'series.TENANT_TOTAL'];

describe('the store’s statements', () => {
  it('lists every statement of every module', async () => {
    const files = fs.readdirSync(fromRoot('src/store/sql')).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, ''));
    const modules = Object.fromEntries(await Promise.all(files.map(async (f) => [f, await import(`../src/store/sql/${f}.ts`)] as const)));
    expect(Object.keys(modules).sort()).toEqual(Object.keys({ batches, catalog, events, gates, inboxes, instances, retention, series, tenants, topics, webhooks }).sort());
    const exported = Object.entries(modules).flatMap(([family, m]) => Object.keys(m).map((name) => `${family}.${name}`));
    const listed = Object.entries(statements).flatMap(([family, m]) => Object.keys(m).map((name) => `${family}.${name}`));
    expect(exported.filter((name) => !FRAGMENTS.includes(name)).sort()).toEqual(listed.sort());
  });

  it('each is planned by PostgreSQL against the migrated schema', async () => {
    const url = await createTestDatabase();
    const refused: string[] = [];
    for (const [family, list] of Object.entries(statements)) {
      for (const [name, variants] of Object.entries(list)) {
        for (const [i, make] of variants.entries()) {
          const statement = make();
          await runSql(url, `EXPLAIN ${statement.text}`, statement.values).catch((error: Error) => refused.push(`${family}.${name}[${i}]: ${error.message}`));
        }
      }
    }
    expect(refused).toEqual([]);
  });

  it('announcements made after a commit reach a listener, each as given', async () => {
    const url = await createTestDatabase();
    const listener = new pg.Client({ connectionString: url });
    await listener.connect();
    try {
      const heard: string[] = [];
      listener.on('notification', (m) => heard.push(m.payload!));
      await listener.query(`LISTEN ${CHANNEL}`);
      const changes = [{ k: 'instance', t: id, id: other, w: id, s: 'COMPLETED' }, { k: 'event', t: id, id: other, topic: "it's $herald$" }];
      await runSql(url, `BEGIN; SET LOCAL synchronous_commit TO off; ${inline(instances.announceAll(changes))}; COMMIT`);
      await eventually(async () => heard.length === 2, 5_000, 'both announcements');
      expect(heard.map((h) => JSON.parse(h))).toEqual(changes);
    } finally {
      await listener.end();
    }
  });

  it('fails when a migration breaks one', async () => {
    const url = await createTestDatabase();
    await runSql(url, 'ALTER TABLE instance RENAME COLUMN parked TO waiting_for_circuit');
    const statement = instances.unpark(id, 10);
    await expect(runSql(url, `EXPLAIN ${statement.text}`, statement.values)).rejects.toThrow(/parked/);
  });
});
