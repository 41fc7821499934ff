import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluate } from '../src/rules/conditions.ts';
import type { EventShape } from '../src/rules/eventShape.ts';
import { wants } from '../src/rules/events.ts';
import { requiredEquality, TopicMatcher, type MatchingWebhook } from '../src/rules/matching.ts';
import { treeOf, type ConditionRow } from '../src/rules/conditionTree.ts';

const SEED = Number(process.env.HERALD_PROPERTY_SEED ?? 20261202);
const now = new Date('2026-12-02T12:00:00Z');

/** Values that look alike but differ as the operators compare them ("1" and 1, null and missing, false and 0). */
const value = fc.constantFrom<unknown>('acme', 'globex', '1', 1, 0, false, true, null, { a: 1 }, ['acme']);
const path = fc.constantFrom('clientId', 'entityId', 'data.region', 'data.nested.level', 'actor.type');
const operator = fc.constantFrom('EQUALS', 'IN', 'NOT_EQUALS', 'NOT_IN', 'IS_NULL', 'CONTAINS');

let ids = 0;
const rule = fc.record({ path, operator, values: fc.array(value, { minLength: 1, maxLength: 3 }) }).map(
  (r): ConditionRow => ({ id: `c${(ids += 1)}`, parentId: null, kind: 'RULE', combinator: null, path: r.path, operator: r.operator, values: r.operator === 'EQUALS' || r.operator === 'NOT_EQUALS' || r.operator === 'CONTAINS' ? r.values.slice(0, 1) : r.values, position: ids }),
);
/** Top-level rules, sometimes one nested group (which the index must not look into). */
const conditions = fc.tuple(fc.array(rule, { maxLength: 3 }), fc.option(fc.tuple(fc.constantFrom<'ALL' | 'ANY'>('ALL', 'ANY'), fc.array(rule, { minLength: 1, maxLength: 2 })))).map(([top, group]) => {
  if (!group) return top;
  const groupId = `g${(ids += 1)}`;
  return [...top, { id: groupId, parentId: null, kind: 'GROUP' as const, combinator: group[0], path: null, operator: null, values: [], position: ids }, ...group[1].map((r) => ({ ...r, parentId: groupId }))];
});
const webhook = fc.record({
  eventTypes: fc.subarray(['user.created', 'user.updated', 'user.*', 'user.a.b', 'course.created'], { minLength: 1 }),
  conditionMatch: fc.constantFrom<'ALL' | 'ANY'>('ALL', 'ANY'),
  conditions,
});
const event = fc.record({
  action: fc.constantFrom('created', 'updated', 'deleted', 'a.b'),
  clientId: fc.constantFrom('acme', 'globex', '1', null),
  entityId: fc.constantFrom('1', 'acme'),
  data: fc.record({ region: value, nested: fc.option(fc.record({ level: value })) }, { requiredKeys: [] }),
  actor: fc.option(fc.record({ type: value })),
});

function webhooksOf(specs: Array<{ eventTypes: string[]; conditionMatch: 'ALL' | 'ANY'; conditions: ConditionRow[] }>): MatchingWebhook[] {
  return specs.map((s, i) => ({
    id: `w${String(i).padStart(4, '0')}`, ...s, batchWindowMs: null, batchMaxSize: 100, orderedDelivery: false, url: 'http://127.0.0.1/', method: 'POST',
    payloadMode: 'FULL', selectedFields: [], template: null, templateFormat: null, paused: false, circuitOpen: false,
  }));
}

function shapeOf(e: { action: string; clientId: string | null; entityId: string; data: Record<string, unknown>; actor: unknown }): EventShape {
  return { id: 'e1', topic: 'user', action: e.action, entityId: e.entityId, data: e.data, previous: null, changedFields: null, actor: e.actor as never, clientId: e.clientId, correlationId: null, occurredAt: now };
}

describe('matching an event through the index', () => {
  it('takes exactly the webhooks a pass over every webhook would take', () => {
    fc.assert(
      fc.property(fc.array(webhook, { maxLength: 30 }), fc.array(event, { minLength: 1, maxLength: 10 }), (specs, events) => {
        const webhooks = webhooksOf(specs);
        const matcher = new TopicMatcher('user', webhooks.filter((w) => w.eventTypes.some((t) => t.startsWith('user.'))));
        for (const e of events.map(shapeOf)) {
          const everyOne = webhooks.filter((w) => wants(w.eventTypes, 'user', e.action) && evaluate(treeOf(w.conditions, w.conditionMatch), e, now).matched);
          expect(matcher.match(e, now).map((w) => w.id)).toEqual(everyOne.map((w) => w.id));
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('one webhook per customer: an event meets its customer’s webhook, not every customer’s', () => {
    const webhooks = webhooksOf(
      Array.from({ length: 5000 }, (_, i) => ({
        eventTypes: ['user.created'], conditionMatch: 'ALL' as const,
        conditions: [{ id: `c${i}`, parentId: null, kind: 'RULE' as const, combinator: null, path: 'clientId', operator: 'EQUALS', values: [`customer-${i}`], position: 0 }],
      })),
    );
    const matcher = new TopicMatcher('user', webhooks);
    const e = shapeOf({ action: 'created', clientId: 'customer-4321', entityId: '1', data: {}, actor: null });
    expect(matcher.match(e, now).map((w) => w.id)).toEqual(['w4321']);
    // The index is what narrows: a tree that needs the value is indexed by it; one that may match without it is not.
    expect(requiredEquality(treeOf(webhooks[0]!.conditions, 'ALL'))).toEqual({ path: 'clientId', keys: ['string:customer-0'] });
    expect(requiredEquality(treeOf([...webhooks[0]!.conditions, { ...webhooks[1]!.conditions[0]!, position: 1 }], 'ANY'))).toBeNull();
    expect(requiredEquality(treeOf(webhooks[0]!.conditions, 'ANY'))).toEqual({ path: 'clientId', keys: ['string:customer-0'] });
  });
});
