import { query } from '../db/client.ts';
import { topicMap, type TopicInfo, type TopicRow } from '../rules/topics.ts';
import type { MatchingWebhook } from '../rules/matching.ts';
import * as eventSql from './sql/events.ts';
import * as sql from './sql/topics.ts';

/** The tenant's topics with their field catalogs (one plain query: every publish reads them). */
export async function loadTopics(tenantId: string): Promise<Map<string, TopicInfo>> {
  const [row] = await query<{ topics: TopicRow[] }>(sql.tenantTopics(tenantId));
  return topicMap(row!.topics);
}

/**
 * What a publish reads, in one plain statement (every publish makes it): the tenant's
 * topics, and what matching and rendering need of its active and paused webhooks on `topics`.
 */
export async function readCatalog(tenantId: string, topics: string[]): Promise<{ topics: Map<string, TopicInfo>; webhooks: MatchingWebhook[] }> {
  const [row] = await query<{ topics: TopicRow[]; webhooks: MatchingWebhook[] }>(eventSql.catalog(tenantId, topics));
  return { topics: topicMap(row!.topics), webhooks: row!.webhooks };
}
