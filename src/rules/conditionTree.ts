import type { Combinator } from '../generated/prisma/client.ts';
import { OPERATORS, type ConditionNode, type Operator } from './conditions.ts';
import { checkRule, type RuleContext } from './conditionRules.ts';
import { Problems } from './problems.ts';
import { expandEventTypes, type TopicInfo } from './topics.ts';

/** A webhook's condition tree: as given, as stored, checked whole (its size, its depth, each rule against the catalog). */

/** How many conditions a webhook holds, and how deep groups nest, at most. */
export const CONDITION_LIMITS = { conditions: 100, depth: 5 };

/** Exactly one of `rule` or `group` (checked). */
export interface ConditionInput {
  rule?: { path: string; operator: Operator; values?: unknown[] | null } | null;
  group?: { match: Combinator; conditions: ConditionInput[] } | null;
}

export type ConditionRow = { id: string; parentId: string | null; kind: 'GROUP' | 'RULE'; combinator: Combinator | null; path: string | null; operator: string | null; values: unknown; position: number };

export function treeOf(rows: ConditionRow[], match: Combinator): ConditionNode {
  const byParent = new Map<string | null, ConditionRow[]>();
  for (const row of [...rows].sort((a, b) => a.position - b.position)) {
    byParent.set(row.parentId, [...(byParent.get(row.parentId) ?? []), row]);
  }
  const build = (row: ConditionRow): ConditionNode =>
    row.kind === 'GROUP'
      ? { kind: 'GROUP', combinator: row.combinator ?? 'ALL', children: (byParent.get(row.id) ?? []).map(build) }
      : { kind: 'RULE', path: row.path!, operator: row.operator as Operator, values: (row.values as unknown[]) ?? [] };
  return { kind: 'GROUP', combinator: match, children: (byParent.get(null) ?? []).map(build) };
}

export function depthOf(rows: Array<{ id: string; parentId: string | null }>, id: string): number {
  let depth = 1;
  let current = rows.find((r) => r.id === id);
  while (current?.parentId) {
    depth += 1;
    current = rows.find((r) => r.id === current!.parentId);
  }
  return depth;
}

/** The tree of conditions given as input (not yet saved). */
export function inputTree(conditions: ConditionInput[], match: Combinator): ConditionNode {
  const build = (c: ConditionInput): ConditionNode =>
    c.group
      ? { kind: 'GROUP', combinator: c.group.match, children: c.group.conditions.map(build) }
      : { kind: 'RULE', path: c.rule!.path.trim(), operator: c.rule!.operator, values: c.rule!.values ?? [] };
  return { kind: 'GROUP', combinator: match, children: conditions.map(build) };
}

export function checkConditionTree(
  problems: Problems,
  at: string,
  conditions: ConditionInput[],
  ctx: RuleContext,
  depth: number,
  counter: { count: number },
): void {
  conditions.forEach((condition, i) => {
    const here = `${at}[${i}]`;
    counter.count += 1;
    if (counter.count === CONDITION_LIMITS.conditions + 1) problems.add(here, `a webhook may have at most ${CONDITION_LIMITS.conditions} conditions`);
    const given = [condition.rule, condition.group].filter((c) => c !== null && c !== undefined).length;
    if (given !== 1) {
      problems.add(here, 'give exactly one of `rule` or `group`');
      return;
    }
    if (condition.group) {
      if (depth >= CONDITION_LIMITS.depth) problems.add(`${here}.group`, `groups nest at most ${CONDITION_LIMITS.depth} levels deep`);
      checkConditionTree(problems, `${here}.group.conditions`, condition.group.conditions, ctx, depth + 1, counter);
    } else {
      const rule = condition.rule!;
      if (!OPERATORS.includes(rule.operator)) problems.add(`${here}.rule.operator`, `must be one of ${OPERATORS.join(', ')}`);
      else checkRule(problems, `${here}.rule`, { path: rule.path.trim(), operator: rule.operator, values: rule.values ?? [] }, ctx);
    }
  });
}

/** Stored conditions must still make sense after the events or catalog change. */
export function recheckStoredTree(problems: Problems, tree: ConditionNode, ctx: RuleContext, at = 'conditions'): void {
  if (tree.kind === 'RULE') {
    const local = new Problems();
    checkRule(local, at, tree, ctx);
    for (const p of local.list) problems.add('input', `the existing condition "${tree.path} ${tree.operator}" would no longer work: ${p.message}`);
    return;
  }
  tree.children.forEach((child, i) => recheckStoredTree(problems, child, ctx, `${at}[${i}]`));
}

export function contextOf(webhook: { eventTypes: string[] }, topics: Map<string, TopicInfo>): RuleContext {
  return { events: expandEventTypes(webhook.eventTypes, topics), topics };
}
