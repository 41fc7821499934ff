// `npm run bench:scale`: what grows with what a production user accumulates, as ratios
// measured in one run (issue 17). One embedded PostgreSQL, a receiver on loopback.
//   --smoke      a few calls instead of hundreds (the test suite runs this)
//   --out <dir>  where results go (default bench/results)
// Measured so far: publishEvent with 1 webhook on the topic vs 5,000 (1 matching by event
// type; 1 matching by a clientId condition, one webhook per customer).
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type pg from 'pg';
import { buildForStart, createTopic, createWebhook, Herald, openDatabase, Postgres } from './lib/cluster.ts';
import { Receivers } from './lib/receiver.ts';
import { percentiles, table, type Percentiles } from './lib/stats.ts';

const { values: args } = parseArgs({ options: { smoke: { type: 'boolean', default: false }, out: { type: 'string', default: 'bench/results' } } });
const size = args.smoke ? { webhooks: 200, calls: 20, warmUp: 5 } : { webhooks: 5000, calls: 400, warmUp: 40 };

/** Copies of a webhook made by SQL (creating thousands through the API would take minutes): new ids and labels `<label> <n>`, each with a condition `clientId equals customer-<n>` if asked. */
async function cloneWebhook(db: pg.Pool, webhookId: string, count: number, clientIdCondition: boolean): Promise<void> {
  const columns = (await db.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'webhook' AND table_schema = current_schema() ORDER BY ordinal_position`)).rows.map((r) => r.column_name as string);
  const value = (c: string) => (c === 'id' ? 'ids.id' : c === 'label' ? `w.label || ' ' || ids.n` : `w.${c}`);
  await db.query(
    `WITH ids AS (SELECT n, gen_random_uuid() AS id FROM generate_series(1, $2::int) n),
     made AS (INSERT INTO webhook (${columns.join(', ')}) SELECT ${columns.map(value).join(', ')} FROM webhook w, ids WHERE w.id = $1::uuid RETURNING id, label)
     INSERT INTO condition (id, webhook_id, position, kind, path, operator, values)
     SELECT gen_random_uuid(), made.id, 0, 'RULE', 'clientId', 'EQUALS', jsonb_build_array('customer-' || split_part(made.label, ' ', 2)) FROM made WHERE $3::boolean`,
    [webhookId, count, clientIdCondition],
  );
}

buildForStart();
const postgres = await Postgres.start();
const receivers = await Receivers.start();
let herald: Herald | undefined;
try {
  const databaseUrl = await postgres.database('herald');
  herald = new Herald({ DATABASE_URL: databaseUrl });
  await herald.start();
  const db = await openDatabase(databaseUrl);

  // Three topics: one webhook; N webhooks of which one takes `created`; N webhooks of which one takes customer-0's events.
  for (const topic of ['one', 'types', 'customers']) await createTopic(herald, topic);
  await createWebhook(herald, { label: 'one', events: ['one.created'], url: receivers.route('one') });
  await createWebhook(herald, { label: 'types', events: ['types.created'], url: receivers.route('types') });
  const other = await createWebhook(herald, { label: 'other', events: ['types.updated'], url: receivers.route('other') });
  await cloneWebhook(db, other, size.webhooks - 2, false);
  const customer = await createWebhook(herald, {
    label: 'customer', events: ['customers.created'], url: receivers.route('customers'),
    conditions: [{ rule: { path: 'clientId', operator: 'EQUALS', values: ['customer-0'] } }],
  });
  await cloneWebhook(db, customer, size.webhooks - 1, true);

  const publishOne = async (topic: string, i: number) => {
    const started = performance.now();
    const data = await herald!.gql('mutation($e: EventInput!) { publishEvent(input: { event: $e }) { instances { id } } }', {
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
  const report = [
    `publishEvent, one call at a time (${size.calls} calls each, ms)`,
    table(
      ['case', 'p50', 'p99', 'p50 ratio', 'p99 ratio'],
      results.map((r) => [r.label, r.p50, r.p99, `${(r.p50 / base.p50).toFixed(2)}×`, `${(r.p99 / base.p99).toFixed(2)}×`]),
    ),
    `target: ≤ 2× at ${size.webhooks} vs 1 webhook`,
  ].join('\n');
  console.log(report);
  await fs.mkdir(args.out!, { recursive: true });
  await fs.writeFile(path.join(args.out!, args.smoke ? 'scale-smoke.txt' : 'scale.txt'), `${report}\n`);
  await db.end();
} finally {
  await herald?.stop();
  await receivers.down();
  await postgres.stop();
}
