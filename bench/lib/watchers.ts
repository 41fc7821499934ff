// A process of dashboards: `count` graphql-ws clients watching one webhook's COMPLETED
// changes (bench:scale starts it, so that the clients' work is not the bench's).
// Args: <graphql url> <webhook id> <count>. Prints `ready` once all are subscribed; on
// `stop` (stdin) prints one JSON line: the COMPLETED → client delays' percentiles, and
// how many changes each client got at least and at most; then exits.
import readline from 'node:readline';
import { watchCompleted } from './cluster.ts';
import { percentiles } from './stats.ts';

const [url, webhookId, countText] = process.argv.slice(2);
const count = Number(countText);
const delays: number[] = [];
const received = new Array<number>(count).fill(0);
const watchers = [];
for (let i = 0; i < count; i += 10) {
  watchers.push(
    ...(await Promise.all(
      Array.from({ length: Math.min(10, count - i) }, (_, j) =>
        watchCompleted(url!, webhookId!, (updatedAt) => {
          delays.push(Date.now() - Date.parse(updatedAt));
          received[i + j]! += 1;
        }),
      ),
    )),
  );
}
console.log('ready');
for await (const line of readline.createInterface({ input: process.stdin })) {
  const [word, expected] = line.trim().split(' ');
  if (word !== 'stop') continue;
  const deadline = Date.now() + 30_000;
  while (Math.min(...received) < Number(expected) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  console.log(JSON.stringify({ ...percentiles(delays), fewest: Math.min(...received), most: Math.max(...received) }));
  await Promise.all(watchers.map((w) => w.dispose()));
  process.exit(0);
}
