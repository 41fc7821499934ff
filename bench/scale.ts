// `npm run bench:scale`: what grows with what a production user accumulates, as ratios
// measured in one run (issue 17). One embedded PostgreSQL, a receiver on loopback.
//   --smoke      a few calls instead of hundreds (the test suite runs this)
//   --out <dir>  where results go (default bench/results)
//   --only <phases>  some of publish,watchers,history (comma-separated; default all)
//   --profile <dir>  the server writes a CPU profile there when it stops (node --cpu-prof)
// Measured so far: publishEvent with 1 webhook on the topic vs 5,000 (1 matching by event
// type; 1 matching by a clientId condition, one webhook per customer); the webhook list and
// entity look-ups at 10,000 vs 1,000,000 stored deliveries (made by SQL); COMPLETED →
// subscriber and publish latency at 100 deliveries/s with 1 vs 500 dashboards watching;
// the purge at the small and the large history, and the space it frees taken by new rows;
// the bytes stored per delivery and the queue's size.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type pg from 'pg';
import { PgBoss } from 'pg-boss';
import { PURGE_QUEUE } from '../src/queue/boss.ts';
import { buildForStart, createTopic, createWebhook, Herald, openDatabase, Postgres } from './lib/cluster.ts';
import { Receivers } from './lib/receiver.ts';
import { between, postgresPids, read } from './lib/cpu.ts';
import { percentiles, table, until, type Percentiles } from './lib/stats.ts';

const { values: args } = parseArgs({
  options: { smoke: { type: 'boolean', default: false }, out: { type: 'string', default: 'bench/results' }, only: { type: 'string' }, profile: { type: 'string' } },
});
const PHASES = ['publish', 'watchers', 'history'] as const;
const phases = new Set(args.only ? args.only.split(',') : PHASES);
for (const phase of phases) if (!(PHASES as readonly string[]).includes(phase)) throw new Error(`--only takes ${PHASES.join(', ')}, not ${phase}`);
const size = args.smoke
  ? { webhooks: 200, calls: 20, warmUp: 5, smallHistory: 1_000, largeHistory: 20_000, reads: 10, watchers: 20, watchRate: 20, watchSeconds: 2, purged: 1_000, purgeRate: 20 }
  : { webhooks: 5000, calls: 400, warmUp: 40, smallHistory: 10_000, largeHistory: 1_000_000, reads: 100, watchers: 500, watchRate: 100, watchSeconds: 10, purged: 50_000, purgeRate: 20 };

const columnsOf = async (db: pg.Pool, table: string) =>
  (await db.query(`SELECT column_name FROM information_schema.columns WHERE table_name = $1 AND table_schema = current_schema() ORDER BY ordinal_position`, [table])).rows.map((r) => r.column_name as string);
/** The column list of `table`, and what to select for each: `alias.column`, or the override given. */
const selectList = (columns: string[], alias: string, overrides: Record<string, string>) => columns.map((c) => overrides[c] ?? `${alias}.${c}`).join(', ');

/** Copies of a webhook made by SQL (creating thousands through the API would take minutes): new ids and labels `<label> <n>`, each with a condition `clientId equals customer-<n>` if asked. */
async function cloneWebhook(db: pg.Pool, webhookId: string, count: number, clientIdCondition: boolean): Promise<void> {
  const columns = await columnsOf(db, 'webhook');
  await db.query(
    `WITH ids AS (SELECT n, gen_random_uuid() AS id FROM generate_series(1, $2::int) n),
     made AS (INSERT INTO webhook (${columns.join(', ')}) SELECT ${selectList(columns, 'w', { id: 'ids.id', label: `w.label || ' ' || ids.n` })} FROM webhook w, ids WHERE w.id = $1::uuid RETURNING id, label)
     INSERT INTO condition (id, webhook_id, position, kind, path, operator, values)
     SELECT gen_random_uuid(), made.id, 0, 'RULE', 'clientId', 'EQUALS', jsonb_build_array('customer-' || split_part(made.label, ' ', 2)) FROM made WHERE $3::boolean`,
    [webhookId, count, clientIdCondition],
  );
}

/**
 * History made by SQL: copies `from`..`to` of a delivered event, its delivery and its
 * attempt, entity `<prefix><n>` each, `ageDays` old (ids and times), in chunks.
 */
async function cloneHistory(db: pg.Pool, eventId: string, from: number, to: number, { prefix = 'h', ageDays = 0 } = {}): Promise<void> {
  const [events, instances, attempts] = [await columnsOf(db, 'event'), await columnsOf(db, 'instance'), await columnsOf(db, 'attempt')];
  const age = `interval '${ageDays} days'`;
  for (let start = from; start <= to; start += 100_000) {
    const end = Math.min(to, start + 99_999);
    await db.query(
      `WITH ids AS (SELECT n, uuidv7(-${age}) AS event_id, uuidv7(-${age}) AS instance_id, uuidv7(-${age}) AS attempt_id FROM generate_series($2::int, $3::int) n),
       stored AS (INSERT INTO event (${events.join(', ')}) SELECT ${selectList(events, 'e', { id: 'ids.event_id', entity_id: `$4 || ids.n`, idempotency_key: 'NULL', created_at: `e.created_at - ${age}` })}
         FROM event e, ids WHERE e.id = $1::uuid RETURNING id),
       made AS (INSERT INTO instance (${instances.join(', ')}) SELECT ${selectList(instances, 'i', { id: 'ids.instance_id', event_id: 'ids.event_id', entity_id: `$4 || ids.n`, created_at: `i.created_at - ${age}`, updated_at: `i.updated_at - ${age}` })}
         FROM instance i, ids WHERE i.event_id = $1::uuid RETURNING id)
       INSERT INTO attempt (${attempts.join(', ')}) SELECT ${selectList(attempts, 'a', { id: 'ids.attempt_id', instance_id: 'ids.instance_id', started_at: `a.started_at - ${age}` })}
       FROM attempt a JOIN instance i ON i.id = a.instance_id, ids WHERE i.event_id = $1::uuid`,
      [eventId, start, end, prefix],
    );
  }
  await db.query('VACUUM ANALYZE event, instance, attempt');
}

buildForStart();
const postgres = await Postgres.start();
const receivers = await Receivers.start();
let herald: Herald | undefined;
try {
  const databaseUrl = await postgres.database('herald');
  const server = (herald = new Herald({ DATABASE_URL: databaseUrl }, args.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(args.profile)}`] : []));
  await server.start();
  const db = await openDatabase(databaseUrl);

  const publishPhase = async () => {
    // Three topics: one webhook; N webhooks of which one takes `created`; N webhooks of which one takes customer-0's events.
    for (const topic of ['one', 'types', 'customers']) await createTopic(server, topic);
    await createWebhook(server, { label: 'one', events: ['one.created'], url: receivers.route('one') });
    await createWebhook(server, { label: 'types', events: ['types.created'], url: receivers.route('types') });
    const other = await createWebhook(server, { label: 'other', events: ['types.updated'], url: receivers.route('other') });
    await cloneWebhook(db, other, size.webhooks - 2, false);
    const customer = await createWebhook(server, {
      label: 'customer', events: ['customers.created'], url: receivers.route('customers'),
      conditions: [{ rule: { path: 'clientId', operator: 'EQUALS', values: ['customer-0'] } }],
    });
    await cloneWebhook(db, customer, size.webhooks - 1, true);

    const publishOne = async (topic: string, i: number) => {
      const started = performance.now();
      const data = await server.gql('mutation($e: EventInput!) { publishEvent(input: { event: $e }) { instances { id } } }', {
        e: { topic, action: 'created', entityId: `e${i}`, clientId: 'customer-0', data: { status: 'Completed', amount: 42 } },
      });
      if (data.publishEvent.instances.length !== 1) throw new Error(`a ${topic} event matched ${data.publishEvent.instances.length} webhooks, not 1`);
      return performance.now() - started;
    };
    const measure = async (topic: string): Promise<Percentiles> => {
      for (let i = 0; i < size.warmUp; i += 1) await publishOne(topic, -i);
      const took: number[] = [];
      for (let i = 0; i < size.calls; i += 1) took.push(await publishOne(topic, i));
      return percentiles(took);
    };
    // In turn, twice, so that drift of the host hits each alike; the second pass is reported.
    const cases = [
      ['1 webhook on the topic', 'one'],
      [`${size.webhooks} on the topic, 1 matching by event type`, 'types'],
      [`${size.webhooks} on the topic, 1 matching by clientId condition`, 'customers'],
    ] as const;
    for (const [, topic] of cases) await measure(topic);
    const results = [];
    for (const [label, topic] of cases) results.push({ label, ...(await measure(topic)) });
    const base = results[0]!;

    return [
      `publishEvent, one call at a time (${size.calls} calls each, ms)`,
      table(
        ['case', 'p50', 'p99', 'p50 ratio', 'p99 ratio'],
        results.map((r) => [r.label, r.p50, r.p99, `${(r.p50 / base.p50).toFixed(2)}×`, `${(r.p99 / base.p99).toFixed(2)}×`]),
      ),
      `target: ≤ 2× at ${size.webhooks} vs 1 webhook`,
    ];
  };

  const watchersPhase = async () => {
    // Watchers: COMPLETED → subscriber and publish latency with 1 vs many dashboards on one webhook, at a steady rate.
    await createTopic(server, 'watched');
    const watched = await createWebhook(server, { label: 'watched', events: ['watched.created'], url: receivers.route('watched') });
    const completed = async () => (await db.query(`SELECT count(*)::int AS n FROM instance WHERE webhook_id = $1::uuid AND status = 'COMPLETED'`, [watched])).rows[0].n as number;
    let published = 0;
    /** Publishes at the steady rate for the set time; answers each call's latency once every delivery completed. */
    const publishSteadily = async (via: Herald = server): Promise<number[]> => {
      const took: number[] = [];
      const calls: Array<Promise<void>> = [];
      const t0 = performance.now();
      for (let i = 0; i < size.watchRate * size.watchSeconds; i += 1) {
        const wait = t0 + (i * 1000) / size.watchRate - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const started = performance.now();
        calls.push(
          via.gql('mutation($id: String!) { publishEvent(input: { event: { topic: "watched", action: "created", entityId: $id, data: {} } }) { event { id } } }', { id: `w${published}` }).then(() => {
            took.push(performance.now() - started);
          }),
        );
        published += 1;
      }
      await Promise.all(calls);
      await until(async () => (await completed()) >= published, 60_000, 'the watched deliveries');
      return took;
    };
    /** `clients` dashboards on `via`, which the publishes go to too; `servers` are all of Herald's processes (for the CPU). */
    const watching = async (clients: number, layout: string, via: Herald = server, servers: Herald[] = [server]) => {
      const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./lib/watchers.ts', import.meta.url)), via.url, watched, String(clients)], { stdio: ['pipe', 'pipe', 'inherit'] });
      const lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      if ((await lines.next()).value !== 'ready') throw new Error('the watchers process did not start');
      const groups = { herald: () => servers.map((s) => s.pid), postgres: () => postgresPids(postgres.dataDir), watchers: () => [child.pid!], bench: () => [process.pid] };
      const cpuFrom = read(groups);
      const took = await publishSteadily(via);
      const cpu = between(cpuFrom, read(groups));
      child.stdin!.write(`stop ${size.watchRate * size.watchSeconds}\n`);
      const summary = JSON.parse((await lines.next()).value as string) as Percentiles & { fewest: number; most: number };
      await new Promise((r) => child.once('exit', r));
      return { clients, layout, delay: summary, publish: percentiles(took), cpu };
    };
    await publishSteadily(); // warm-up, nobody watching
    const watchedRuns = [await watching(1, 'one process'), await watching(size.watchers, 'one process')];
    // The layout docs/operating.md advises for many dashboards: they and the publishers on an api process, deliveries on another.
    const api = new Herald({ DATABASE_URL: databaseUrl, HERALD_ROLE: 'api' });
    await api.start();
    try {
      await publishSteadily(api); // warm-up
      watchedRuns.push(await watching(size.watchers, 'api apart from the worker', api, [server, api]));
    } finally {
      await api.stop();
    }
    // The queue after the runs: every job it holds (finished ones stay ten minutes), and the bytes of its tables.
    const queue = (
      await db.query(
        `SELECT (SELECT count(*) FROM pgboss.job)::int AS jobs, (SELECT count(*) FROM pgboss.job WHERE state = 'completed')::int AS completed,
           (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c WHERE c.relnamespace = 'pgboss'::regnamespace AND c.relkind IN ('r', 'p'))::bigint AS bytes`,
      )
    ).rows[0] as { jobs: number; completed: number; bytes: string };
    const perJob = Number(queue.bytes) / Math.max(1, queue.jobs);
    const steadyJobs = size.watchRate * 600; // one job per publish call here, kept ten minutes

    return [
      `${size.watchRate} deliveries/s for ${size.watchSeconds} s with dashboards watching the webhook (graphql-ws clients in another process, ms)`,
      table(
        ['subscribers', 'Herald', 'COMPLETED → subscriber p50', 'p99', 'changes per subscriber', 'publish p50', 'publish p99', 'cores: herald', 'postgres', 'watchers', 'bench'],
        watchedRuns.map((r) => [
          r.clients, r.layout, r.delay.p50, r.delay.p99, r.delay.fewest === r.delay.most ? r.delay.most : `${r.delay.fewest}–${r.delay.most}`, r.publish.p50, r.publish.p99,
          ...(['herald', 'postgres', 'watchers', 'bench'] as const).map((g) => r.cpu.groups[g]!.toFixed(2)),
        ]),
      ),
      `(cores: CPU used while publishing, of the machine's ${watchedRuns[0]!.cpu.cpus}; herald: all of its processes)`,
      `the queue after ${published.toLocaleString('en-US')} publishes (one delivery each): ${queue.jobs.toLocaleString('en-US')} jobs (${queue.completed.toLocaleString('en-US')} completed, kept ten minutes), ` +
        `${(Number(queue.bytes) / 1e6).toFixed(1)} MB of tables, ${Math.round(perJob)} bytes per job; at ${size.watchRate} publishes/s steady it holds about ${steadyJobs.toLocaleString('en-US')} jobs, ${((perJob * steadyJobs) / 1e6).toFixed(0)} MB`,
      `target: subscriber p99 under 250 ms, and ≤ 2× at ${size.watchers} vs 1 subscriber`,
    ];
  };

  const historyPhase = async () => {
    // History: reads at a small and a large number of stored deliveries (of one webhook, one entity each).
    await createTopic(server, 'hist');
    const histWebhook = await createWebhook(server, { label: 'hist', events: ['hist.created'], url: receivers.route('hist') });
    const seed = (await server.gql('mutation { publishEvent(input: { event: { topic: "hist", action: "created", entityId: "h0", data: { status: "Completed" } } }) { event { id } } }')).publishEvent.event.id;
    await until(async () => (await db.query(`SELECT count(*)::int AS n FROM instance WHERE event_id = $1 AND status = 'COMPLETED'`, [seed])).rows[0].n === 1, 30_000, 'the seed delivery');
    const reads = [
      ['webhook list with stats (first 50)', 'query { webhooks(first: 50) { edges { node { id stats { total successRate lastDeliveryAt byStatus { status count } } } } } }'],
      ['events of an entity', 'query { events(first: 20, filter: { entityId: "h5" }) { edges { node { id } } } }'],
      ['deliveries of an entity', 'query { instances(first: 20, filter: { entityId: "h5" }) { edges { node { id status } } } }'],
    ] as const;
    const timeReads = async () => {
      const out: Record<string, Percentiles> = {};
      for (const [label, query] of reads) {
        for (let i = 0; i < 5; i += 1) await server.gql(query);
        const took: number[] = [];
        for (let i = 0; i < size.reads; i += 1) {
          const started = performance.now();
          await server.gql(query);
          took.push(performance.now() - started);
        }
        out[label] = percentiles(took);
      }
      return out;
    };
    // The purge: `size.purged` deliveries 40 days old (HERALD_RETENTION_DAYS is 30) deleted
    // by the server's own purge job, while publishes go on at a steady rate.
    await createTopic(server, 'during');
    await createWebhook(server, { label: 'during', events: ['during.created'], url: receivers.route('during') });
    let publishedDuring = 0;
    const publishUntil = async (done: () => Promise<boolean>, minMs: number): Promise<number[]> => {
      const took: number[] = [];
      const t0 = performance.now();
      for (let i = 0; performance.now() - t0 < minMs || !(await done()); i += 1) {
        const wait = t0 + (i * 1000) / size.purgeRate - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const started = performance.now();
        await server.gql('mutation($id: String!) { publishEvent(input: { event: { topic: "during", action: "created", entityId: $id, data: {} } }) { event { id } } }', { id: `d${(publishedDuring += 1)}` });
        took.push(performance.now() - started);
      }
      return took;
    };
    const purge = async (run: number) => {
      await cloneHistory(db, seed, 1, size.purged, { prefix: `old${run}-`, ageDays: 40 });
      const quiet = percentiles(await publishUntil(async () => true, 3000));
      const job = await boss.send(PURGE_QUEUE, {});
      const finished = async () => {
        const state = (await boss.getJobById(PURGE_QUEUE, job!))?.state;
        if (state === 'failed' || state === 'retry') throw new Error(`the purge job ${state}`);
        return state === 'completed';
      };
      const during = percentiles(await publishUntil(finished, 0));
      const [row] = (await db.query(`SELECT extract(epoch FROM completed_on - started_on) * 1000 AS ms FROM pgboss.job WHERE id = $1::uuid`, [job])).rows;
      const left = Number((await db.query(`SELECT count(*) AS n FROM instance WHERE entity_id LIKE $1`, [`old${run}-%`])).rows[0].n);
      if (left > 0) throw new Error(`the purge left ${left} of the old deliveries`);
      return { ms: Number(row.ms), perRowUs: (Number(row.ms) * 1000) / size.purged, quiet, during };
    };
    const boss = new PgBoss({ connectionString: databaseUrl, schema: 'pgboss', supervise: false, schedule: false, migrate: false });
    await boss.start();

    await cloneHistory(db, seed, 1, size.smallHistory);
    const small = await timeReads();
    const smallPurge = await purge(1);
    await cloneHistory(db, seed, size.smallHistory + 1, size.largeHistory);
    const large = await timeReads();
    const largePurge = await purge(2);
    await boss.stop({ graceful: false });
    const stored = Number((await db.query(`SELECT count(*) AS n FROM instance WHERE webhook_id = $1::uuid`, [histWebhook])).rows[0].n);

    // What a delivery costs to keep: its event, instance and attempt rows with their indexes.
    await db.query('VACUUM ANALYZE event, instance, attempt');
    const sizes = (
      await db.query(
        `SELECT c.relname AS name, pg_table_size(c.oid) AS heap, pg_indexes_size(c.oid) AS indexes, c.reltuples::bigint AS rows
         FROM pg_class c WHERE c.relname IN ('event', 'instance', 'attempt') AND c.relnamespace = current_schema()::regnamespace ORDER BY c.relname DESC`,
      )
    ).rows.map((r) => ({ name: r.name as string, heap: Number(r.heap), indexes: Number(r.indexes), rows: Number(r.rows) }));
    const deliveries = sizes.find((t) => t.name === 'instance')!.rows;
    // The space comes back: after the purge and the VACUUM above (autovacuum runs it too), as many new deliveries take the freed pages.
    const tablesBytes = async () =>
      Number((await db.query(`SELECT sum(pg_total_relation_size(c.oid))::bigint AS bytes FROM pg_class c WHERE c.relname IN ('event', 'instance', 'attempt') AND c.relnamespace = current_schema()::regnamespace`)).rows[0].bytes);
    const afterPurge = await tablesBytes();
    await cloneHistory(db, seed, 1, size.purged, { prefix: 'refill-' });
    const refillGrowth = (await tablesBytes()) - afterPurge;
    // Row bytes per delivery with one webhook per event, and with five taking the same envelope (its body kept once, with the event).
    await createTopic(server, 'fan');
    for (let i = 0; i < 5; i += 1) await createWebhook(server, { label: `fan ${i}`, events: ['fan.created'], url: receivers.route('fan') });
    for (let i = 0; i < 10; i += 1)
      await server.gql('mutation($e: [PublishEventInput!]!) { publishEvents(inputs: $e) { event { id } } }', {
        e: Array.from({ length: 10 }, (_, j) => ({ event: { topic: 'fan', action: 'created', entityId: `f${i * 10 + j}`, data: { status: 'Completed', amount: 42 } } })),
      });
    await until(async () => (await db.query(`SELECT count(*)::int AS n FROM instance i JOIN event e ON e.id = i.event_id WHERE e.topic = 'fan' AND i.status = 'COMPLETED'`)).rows[0].n === 500, 60_000, 'the fan-out deliveries');
    const rowBytes = async (topic: string) =>
      (
        await db.query(
          `SELECT round(avg(pg_column_size(i.*)))::int AS instance, round(sum(pg_column_size(e.*)) / count(*) * count(DISTINCT e.id) / count(*))::int AS event
           FROM instance i JOIN event e ON e.id = i.event_id WHERE e.topic = $1 AND i.status = 'COMPLETED'`,
          [topic],
        )
      ).rows[0] as { instance: number; event: number };
    const perDelivery = [['one webhook per event', await rowBytes('hist')], ['five webhooks per event, one envelope', await rowBytes('fan')]] as const;

    return [
      `reads at ${size.smallHistory.toLocaleString('en-US')} vs ${stored.toLocaleString('en-US')} stored deliveries (${size.reads} calls each, ms)`,
      table(
        ['read', 'p50 small', 'p50 large', 'p99 small', 'p99 large', 'p50 ratio'],
        reads.map(([label]) => [label, small[label]!.p50, large[label]!.p50, small[label]!.p99, large[label]!.p99, `${(large[label]!.p50 / small[label]!.p50).toFixed(2)}×`]),
      ),
      'target: ≤ 2× at the large vs the small history',
      '',
      `the nightly purge deleting ${size.purged.toLocaleString('en-US')} deliveries 40 days old (with their events and attempts), publishing one at a time at ${size.purgeRate}/s meanwhile (ms)`,
      table(
        ['history', 'purge', 'µs per delivery', 'publish p50 quiet', 'p99 quiet', 'p50 during', 'p99 during'],
        [
          [size.smallHistory.toLocaleString('en-US'), smallPurge.ms.toFixed(0), smallPurge.perRowUs.toFixed(0), smallPurge.quiet.p50, smallPurge.quiet.p99, smallPurge.during.p50, smallPurge.during.p99],
          [stored.toLocaleString('en-US'), largePurge.ms.toFixed(0), largePurge.perRowUs.toFixed(0), largePurge.quiet.p50, largePurge.quiet.p99, largePurge.during.p50, largePurge.during.p99],
        ],
      ),
      `target: cost per deleted delivery ≤ 2× at the large vs the small history (${(largePurge.perRowUs / smallPurge.perRowUs).toFixed(2)}×)`,
      `the space comes back: after the purge and a VACUUM, ${size.purged.toLocaleString('en-US')} new deliveries grew the tables by ${Math.round(refillGrowth / size.purged)} bytes each ` +
        `(a delivery takes ${Math.round(sizes.reduce((sum, t) => sum + t.heap + t.indexes, 0) / deliveries)} with its indexes, below): the rest went into the pages the purge freed`,
      '',
      `stored per delivery at ${deliveries.toLocaleString('en-US')} deliveries (one event, one instance, one attempt each; after VACUUM, bytes)`,
      table(
        ['table', 'rows', 'heap per delivery', 'indexes per delivery'],
        [
          ...sizes.map((t) => [t.name, t.rows.toLocaleString('en-US'), Math.round(t.heap / deliveries), Math.round(t.indexes / deliveries)]),
          ['all', '', Math.round(sizes.reduce((a, t) => a + t.heap, 0) / deliveries), Math.round(sizes.reduce((a, t) => a + t.indexes, 0) / deliveries)],
        ],
      ),
      table(
        ['row bytes per delivery', 'instance', 'its share of the event', 'both'],
        perDelivery.map(([label, r]) => [label, r.instance, r.event, r.instance + r.event]),
      ),
    ];
  };

  // The history goes last: a million stored deliveries would weigh on what is measured after them.
  const sections: string[][] = [];
  if (phases.has('publish')) sections.push(await publishPhase());
  if (phases.has('watchers')) sections.push(await watchersPhase());
  if (phases.has('history')) sections.push(await historyPhase());
  const report = sections.map((lines) => lines.join('\n')).join('\n\n');
  console.log(report);
  await fs.mkdir(args.out!, { recursive: true });
  await fs.writeFile(path.join(args.out!, args.smoke ? 'scale-smoke.txt' : 'scale.txt'), `${report}\n`);
  await db.end();
} finally {
  await herald?.stop();
  await receivers.down();
  await postgres.stop();
}
