import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELIVER_QUEUE_OPTIONS, laneOf, laneOldestStatement, PRIORITY, readyLanesStatement } from '../src/queue/boss.ts';
import { PgBoss } from 'pg-boss';
import { databaseOn, planOf, VERSIONS } from './support/plans.ts';

/**
 * The lanes' statements (queue/boss.ts, delivery/fetchLoop.ts) cost what a lane holds
 * ready at its head, not what the queue holds: on the embedded PostgreSQL 18 and on
 * Debian's PostgreSQL 15, beside a flooding tenant's 100,000 ready jobs, another's
 * 50,000 retries not due yet, 100,000 finished jobs and 48 lanes with a few jobs each.
 */
const FLOOD = '00000000-0000-7000-8000-00000000f100';
const RETRYING = '00000000-0000-7000-8000-00000000f200';
const BULK = '00000000-0000-7000-8000-00000000f300';
const SMALL = Array.from({ length: 48 }, (_, i) => `00000000-0000-7000-8000-0000000${String(i).padStart(5, '0')}`);

async function seed(url: string): Promise<void> {
  const boss = new PgBoss({ connectionString: url, schema: 'pgboss', supervise: false, schedule: false });
  await boss.start();
  try {
    for (const tenant of [FLOOD, RETRYING, BULK, ...SMALL]) await boss.createQueue(laneOf(tenant), DELIVER_QUEUE_OPTIONS);
  } finally {
    await boss.stop({ graceful: false, close: true });
  }
  const db = new pg.Client(url);
  await db.connect();
  const q = (text: string, values: unknown[] = []) => db.query(text, values);
  try {
    const data = `'{"instanceIds": ["00000000-0000-7000-8000-000000000001"], "trigger": "AUTO"}'::jsonb`;
    await q(`INSERT INTO pgboss.job (name, data, group_id, created_on) SELECT $1, ${data}, 'w' || (n % 8), now() - n * interval '1 ms' FROM generate_series(1, 100000) n`, [laneOf(FLOOD)]);
    await q(`INSERT INTO pgboss.job (name, data, group_id, priority, state, start_after) SELECT $1, ${data}, 'w', $2, 'retry', now() + interval '1 hour' FROM generate_series(1, 50000) n`, [laneOf(RETRYING), PRIORITY.background]);
    await q(`INSERT INTO pgboss.job (name, data, group_id, state, completed_on) SELECT $1, ${data}, 'w', 'completed', now() FROM generate_series(1, 100000) n`, [laneOf(SMALL[0]!)]);
    for (const tenant of SMALL) await q(`INSERT INTO pgboss.job (name, data, group_id) SELECT $1, ${data}, 'w' FROM generate_series(1, 3)`, [laneOf(tenant)]);
    // A bulk re-trigger's 20,000 jobs, ready, then one fresh job published after them.
    await q(`INSERT INTO pgboss.job (name, data, group_id, priority, created_on) SELECT $1, ${data}, 'bulk', $2, now() - interval '1 minute' FROM generate_series(1, 20000) n`, [laneOf(BULK), PRIORITY.background]);
    await q(`INSERT INTO pgboss.job (name, data, group_id) VALUES ($1, ${data}, 'fresh')`, [laneOf(BULK)]);
    // The retrying tenant's one fresh job, behind its retries.
    await q(`INSERT INTO pgboss.job (name, data, group_id) VALUES ($1, ${data}, 'fresh')`, [laneOf(RETRYING)]);
    await q('ANALYZE pgboss.job');
  } finally {
    await db.end();
  }
}

/** The plan of a statement that changes rows: run, and rolled back. */
async function planOfRolledBack(db: pg.Client, text: string, values: unknown[]) {
  await db.query('BEGIN');
  try {
    return await planOf(db, text, values);
  } finally {
    await db.query('ROLLBACK');
  }
}

/** The statement pg-boss sends to fetch from a lane, captured rather than run. */
async function fetchStatement(url: string, lane: string, options: object): Promise<{ text: string; values: unknown[] }> {
  const boss = new PgBoss({ connectionString: url, schema: 'pgboss', supervise: false, schedule: false });
  await boss.start();
  try {
    let captured: { text: string; values: unknown[] } | undefined;
    await boss.fetch(lane, {
      ...options,
      db: {
        executeSql: async (text: string, values: unknown[] = []) => {
          captured = { text, values };
          return { rows: [] };
        },
      },
    });
    return captured!;
  } finally {
    await boss.stop({ graceful: false, close: true });
  }
}

for (const version of VERSIONS) {
  describe(`the delivery lanes stay cheap however much waits, on ${version}`, () => {
    let url: string;
    let db: pg.Client;
    let stop: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      ({ url, stop } = await databaseOn(version));
      await seed(url);
      db = new pg.Client(url);
      await db.connect();
    }, 180_000);
    afterAll(async () => {
      await db?.end();
      await stop?.();
    });

    it('the poll for lanes with work reads a few pages per lane, and finds those with a job ready', async () => {
      const { text, values } = readyLanesStatement();
      const plan = await planOfRolledBack(db, text, values);
      expect(plan.seqScans).toEqual([]);
      // 50 lanes: a loose scan (a probe each) and two probes each for the oldest ready job.
      expect(plan.buffers).toBeLessThan(1000);
      const lanes = (await db.query(text, values)).rows.map((r) => r.name);
      expect(lanes).toHaveLength(51);
      expect(lanes).toEqual(expect.arrayContaining([laneOf(FLOOD), laneOf(RETRYING), laneOf(SMALL[0]!)]));
    });

    it("a lane's oldest ready job is two index probes, beside its 100,000 others or its 50,000 retries not due", async () => {
      for (const tenant of [FLOOD, RETRYING]) {
        const { text, values } = laneOldestStatement(laneOf(tenant));
        const plan = await planOfRolledBack(db, text, values);
        expect(plan.seqScans).toEqual([]);
        expect(plan.buffers).toBeLessThan(50);
      }
    });

    it('a fresh job goes before 20,000 ready background jobs enqueued before it; a background fetch takes those', async () => {
      const take = async (options: object) => {
        const { text, values } = await fetchStatement(url, laneOf(BULK), { batchSize: 1, ...options });
        await db.query('BEGIN');
        try {
          return (await db.query(text, values)).rows.map((r) => r.groupId);
        } finally {
          await db.query('ROLLBACK');
        }
      };
      expect(await take({})).toEqual(['fresh']);
      expect(await take({ maxPriority: PRIORITY.background })).toEqual(['bulk']);
      const { text, values } = await fetchStatement(url, laneOf(BULK), { batchSize: 40 });
      expect((await planOfRolledBack(db, text, values)).buffers).toBeLessThan(30 * 40 + 100);
    });

    // A fetch pays for the jobs it takes (about twenty pages each: the row and its indexes), not for what waits.
    it.each([
      ['a small lane, beside the flood', () => laneOf(SMALL[7]!), {}, 3],
      ["the flooding lane's head", () => laneOf(FLOOD), {}, 40],
      ["the flooding lane, its busy webhooks skipped (as far as the next other webhook's job)", () => laneOf(FLOOD), { ignoreGroups: ['w0', 'w1', 'w2', 'w3', 'w4', 'w5', 'w6'] }, 40],
      ['a fresh job behind 50,000 retries not due yet', () => laneOf(RETRYING), {}, 1],
    ] as const)('a fetch from %s reads pages for the jobs it takes', async (_what, lane, options, takes) => {
      const { text, values } = await fetchStatement(url, lane(), { batchSize: 40, ...options });
      const plan = await planOfRolledBack(db, text, values);
      expect(plan.seqScans).toEqual([]);
      expect(plan.buffers).toBeLessThan(30 * takes + 100);
      await db.query('BEGIN');
      try {
        expect((await db.query(text, values)).rows).toHaveLength(takes);
      } finally {
        await db.query('ROLLBACK');
      }
    });
  });
}
