import { query } from '../db/client.ts';
import { topicMap, type TopicInfo, type TopicRow } from '../rules/topics.ts';
import { TopicMatcher, type MatchingWebhook } from '../rules/matching.ts';
import * as catalogSql from './sql/catalog.ts';
import * as sql from './sql/topics.ts';

/** The tenant's topics with their field catalogs (one plain query). */
export async function loadTopics(tenantId: string): Promise<Map<string, TopicInfo>> {
  const [row] = await query<{ topics: TopicRow[] }>(sql.tenantTopics(tenantId));
  return topicMap(row!.topics);
}

/** What a publish matches against: the tenant's topics, and a matcher for each topic asked for that exists. */
export interface Catalog {
  topics: Map<string, TopicInfo>;
  matchers: Map<string, TopicMatcher>;
}

interface Cached extends Catalog {
  version: bigint;
  webhooks: number;
}

/** Webhooks kept across all cached tenants at most; the tenants used least recently go first. */
export const CATALOG_CACHE_WEBHOOKS = 20_000;

const cache = new Map<string, Cached>();
let cachedWebhooks = 0;

/**
 * The tenant's catalog from this process's cache while its version (counted up by triggers on every change) is current; what is
 * missing or stale is read in one statement with its version (docs/architecture.md, "How a delivery goes").
 */
export async function catalogFor(tenantId: string, topicKeys: string[], knownVersion?: bigint): Promise<Catalog> {
  let entry = cache.get(tenantId);
  if (entry) {
    // The version as read in this call's statement that took its tokens, or read now.
    const version = knownVersion ?? BigInt((await query<{ version: string }>(catalogSql.version(tenantId)))[0]!.version);
    if (version !== entry.version) entry = undefined;
  }
  const missing = topicKeys.filter((t) => !entry?.matchers.has(t) && (!entry || entry.topics.has(t)));
  if (!entry || missing.length > 0) entry = await load(tenantId, entry, entry ? missing : topicKeys);
  remember(tenantId, entry);
  return entry;
}

async function load(tenantId: string, current: Cached | undefined, topicKeys: string[]): Promise<Cached> {
  const [row] = await query<{ version: string; topics: TopicRow[]; webhooks: MatchingWebhook[] }>(catalogSql.catalog(tenantId, topicKeys));
  const version = BigInt(row!.version);
  // The version moved since the cached entry was read (or none was): start from what was just read.
  const same = current?.version === version;
  const entry: Cached = {
    version,
    topics: same ? current!.topics : topicMap(row!.topics),
    matchers: new Map(same ? current!.matchers : []),
    webhooks: same ? current!.webhooks : 0,
  };
  // Matchers only for topics that exist (an event of an unknown topic is refused): a caller
  // naming made-up topics cannot grow the cache.
  for (const topic of topicKeys.filter((t) => entry.topics.has(t))) {
    const matcher = new TopicMatcher(topic, row!.webhooks.filter((w) => w.eventTypes.some((t) => t.startsWith(`${topic}.`))));
    entry.webhooks += matcher.size - (entry.matchers.get(topic)?.size ?? 0);
    entry.matchers.set(topic, matcher);
  }
  return entry;
}

function remember(tenantId: string, entry: Cached): void {
  const previous = cache.get(tenantId);
  if (previous) cachedWebhooks -= previous.webhooks;
  cache.delete(tenantId);
  cache.set(tenantId, entry);
  cachedWebhooks += entry.webhooks;
  for (const [oldest, cached] of cache) {
    if (cachedWebhooks <= CATALOG_CACHE_WEBHOOKS || oldest === tenantId) break;
    cache.delete(oldest);
    cachedWebhooks -= cached.webhooks;
  }
}
