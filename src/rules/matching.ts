import type { Combinator, HttpMethod, PayloadMode, TemplateFormat } from '../generated/prisma/client.ts';
import { evaluate, resolvePath, type ConditionNode } from './conditions.ts';
import type { EventShape } from './eventShape.ts';
import { wants } from './events.ts';
import { treeOf, type ConditionRow } from './conditionTree.ts';

/** What matching an event and rendering its payload need of a webhook (the publish catalog's rows). */
export interface MatchingWebhook {
  id: string;
  eventTypes: string[];
  conditionMatch: Combinator;
  conditions: ConditionRow[];
  batchWindowMs: number | null;
  batchMaxSize: number;
  orderedDelivery: boolean;
  url: string;
  method: HttpMethod;
  payloadMode: PayloadMode;
  selectedFields: string[];
  template: string | null;
  templateFormat: TemplateFormat | null;
  /** Its deliveries are held (PAUSED) until it resumes. */
  paused: boolean;
  /** Its circuit is open: its deliveries wait (parked, no job) until a probe succeeds. */
  circuitOpen: boolean;
}

interface Entry {
  webhook: MatchingWebhook;
  tree: ConditionNode;
}

/** Webhooks of one event type: those whose conditions require `path` to equal a value, by value; the others. */
class Bucket {
  readonly byPath = new Map<string, Map<string, Entry[]>>();
  readonly rest: Entry[] = [];

  add(entry: Entry): void {
    const equality = requiredEquality(entry.tree);
    if (!equality) {
      this.rest.push(entry);
      return;
    }
    let byValue = this.byPath.get(equality.path);
    if (!byValue) this.byPath.set(equality.path, (byValue = new Map()));
    for (const key of equality.keys) {
      const list = byValue.get(key);
      if (list) list.push(entry);
      else byValue.set(key, [entry]);
    }
  }

  /** The entries that may take the event: the value look-ups, then every one without an equality. */
  *candidates(event: EventShape): Generator<Entry> {
    for (const [path, byValue] of this.byPath) {
      const key = valueKey(resolvePath(event, path));
      if (key !== undefined) yield* byValue.get(key) ?? [];
    }
    yield* this.rest;
  }
}

/**
 * One topic's webhooks indexed by action, then by a value their conditions require, so one webhook per customer costs a look-up;
 * the index narrows, each candidate's whole condition tree decides.
 */
export class TopicMatcher {
  private readonly byAction = new Map<string, Bucket>();
  readonly size: number;

  constructor(
    readonly topic: string,
    webhooks: MatchingWebhook[],
  ) {
    const prefix = `${topic}.`;
    for (const webhook of webhooks) {
      const actions = new Set(webhook.eventTypes.filter((t) => t.startsWith(prefix)).map((t) => t.slice(prefix.length)));
      const entry = { webhook, tree: treeOf(webhook.conditions, webhook.conditionMatch) };
      // `topic.*` takes every action: listed once, under `*`.
      for (const action of actions.has('*') ? ['*'] : actions) {
        let bucket = this.byAction.get(action);
        if (!bucket) this.byAction.set(action, (bucket = new Bucket()));
        bucket.add(entry);
      }
    }
    this.size = webhooks.length;
  }

  /** The webhooks that take the event, ordered by id. */
  match(event: EventShape, now: Date): MatchingWebhook[] {
    const matched: MatchingWebhook[] = [];
    for (const action of new Set([event.action, '*'])) {
      for (const { webhook, tree } of this.byAction.get(action)?.candidates(event) ?? []) {
        if (wants(webhook.eventTypes, event.topic, event.action) && evaluate(tree, event, now).matched) matched.push(webhook);
      }
    }
    return matched.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}

/**
 * A value the tree cannot match without: a top-level EQUALS or IN rule on scalar values,
 * when every top-level rule must hold (ALL, or a single child).
 */
export function requiredEquality(tree: ConditionNode): { path: string; keys: string[] } | null {
  if (tree.kind !== 'GROUP' || (tree.combinator !== 'ALL' && tree.children.length !== 1)) return null;
  for (const child of tree.children) {
    if (child.kind !== 'RULE' || (child.operator !== 'EQUALS' && child.operator !== 'IN')) continue;
    const values = child.operator === 'EQUALS' ? child.values.slice(0, 1) : child.values;
    const keys = values.map(valueKey);
    if (keys.length > 0 && keys.every((k) => k !== undefined)) return { path: child.path, keys: [...new Set(keys as string[])] };
  }
  return null;
}

/** Scalars equal (as the condition operators compare them) exactly when their keys are equal; undefined for anything else. */
function valueKey(value: unknown): string | undefined {
  if (value === null) return 'null';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return `${typeof value}:${String(value)}`;
  return undefined;
}
