import { describe, expect, it } from 'vitest';
import { evaluate, type ConditionNode } from '../src/rules/conditions.ts';
import type { EventShape } from '../src/rules/eventShape.ts';

const now = new Date('2026-11-24T12:00:00Z');

function event(overrides: Partial<EventShape>): EventShape {
  return {
    id: 'evt_1',
    topic: 'delegate',
    action: 'created',
    entityId: '42',
    data: {},
    previous: null,
    changedFields: null,
    actor: { type: 'admin', id: '7' },
    clientId: 'client-1',
    correlationId: 'corr-1',
    occurredAt: now,
    ...overrides,
  };
}

const rule = (path: string, operator: any, ...values: unknown[]): ConditionNode => ({ kind: 'RULE', path, operator, values });
const all = (...children: ConditionNode[]): ConditionNode => ({ kind: 'GROUP', combinator: 'ALL', children });
const any = (...children: ConditionNode[]): ConditionNode => ({ kind: 'GROUP', combinator: 'ANY', children });

describe("accessplanit's new-delegate webhook", () => {
  // Type Delegate, status Completed/Provisional/In Progress/Booked, not booked onto a session.
  const conditions = all(
    rule('data.type', 'EQUALS', 'Delegate'),
    rule('data.status', 'IN', 'Completed', 'Provisional', 'In Progress', 'Booked'),
    rule('data.sessionId', 'IS_NULL'),
  );

  it('matches a booked delegate of type Delegate with no session', () => {
    const e = event({ data: { type: 'Delegate', status: 'Booked', sessionId: null } });
    expect(evaluate(conditions, e, now)).toEqual({ matched: true, reasons: [] });
  });

  it('"is empty" means what a person means: null, missing, "" or [] (a sessionId of "" still fires)', () => {
    const empty = all(rule('data.type', 'EQUALS', 'Delegate'), rule('data.sessionId', 'IS_EMPTY'));
    for (const sessionId of [null, undefined, '', '  ', [], {}]) {
      expect(evaluate(empty, event({ data: { type: 'Delegate', ...(sessionId === undefined ? {} : { sessionId }) } }), now).matched, JSON.stringify(sessionId)).toBe(true);
    }
    for (const sessionId of ['s-1', 0, false, ['s-1']]) {
      expect(evaluate(empty, event({ data: { type: 'Delegate', sessionId } }), now)).toEqual({ matched: false, reasons: [`data.sessionId is ${JSON.stringify(sessionId)}, not empty`] });
    }
    // IS_NULL keeps its narrower meaning: "" is a value.
    expect(evaluate(rule('data.sessionId', 'IS_NULL'), event({ data: { sessionId: '' } }), now).matched).toBe(false);
    expect(evaluate(rule('data.sessionId', 'IS_NOT_EMPTY'), event({ data: {} }), now)).toEqual({ matched: false, reasons: ['data.sessionId is missing'] });
    expect(evaluate(rule('data.sessionId', 'IS_NOT_EMPTY'), event({ data: { sessionId: 's-2' } }), now).matched).toBe(true);
  });

  it('does not match a delegate of type Trainer, and says why', () => {
    const e = event({ data: { type: 'Trainer', status: 'Booked', sessionId: null } });
    expect(evaluate(conditions, e, now)).toEqual({ matched: false, reasons: ['data.type is "Trainer", not "Delegate"'] });
  });

  it('does not match a delegate booked onto a session, or with another status', () => {
    const e = event({ data: { type: 'Delegate', status: 'Cancelled', sessionId: 'S1' } });
    expect(evaluate(conditions, e, now).reasons).toEqual([
      'data.status is "Cancelled", not one of ["Completed","Provisional","In Progress","Booked"]',
      'data.sessionId is "S1", not null',
    ]);
  });
});

describe("accessplanit's status-changed-to-Completed-or-No-Attend webhook", () => {
  const conditions = rule('data.status', 'CHANGED_TO', 'Completed', 'No Attend');

  it('matches when previous data shows the status changed to Completed', () => {
    const e = event({ action: 'updated', previous: { status: 'Booked', score: 1 }, data: { status: 'Completed', score: 1 } });
    expect(evaluate(conditions, e, now).matched).toBe(true);
  });

  it('matches by the changed-field list when the host sends no previous data', () => {
    const e = event({ action: 'updated', changedFields: ['status'], data: { status: 'No Attend' } });
    expect(evaluate(conditions, e, now).matched).toBe(true);
  });

  it('does not match an update that left the status alone', () => {
    const e = event({ action: 'updated', previous: { status: 'Completed', score: 1 }, data: { status: 'Completed', score: 9 } });
    expect(evaluate(conditions, e, now)).toEqual({ matched: false, reasons: ['data.status did not change'] });
  });

  it('does not match a change to another status', () => {
    const e = event({ action: 'updated', previous: { status: 'Booked' }, data: { status: 'Cancelled' } });
    expect(evaluate(conditions, e, now).reasons).toEqual([
      'data.status changed to "Cancelled", not to one of ["Completed","No Attend"]',
    ]);
  });
});

describe('operators', () => {
  const e = event({
    action: 'updated',
    data: { name: 'Ada Lovelace', score: 80, tags: ['a', 'b'], startDate: '2026-12-01', endDate: '2026-01-01T00:00:00Z', nested: { x: 1 } },
    previous: { name: 'Ada', score: 80, tags: ['a'], startDate: '2026-12-01', endDate: '2026-01-01T00:00:00Z', nested: { x: 2 } },
  });
  const cases: Array<[ConditionNode, boolean]> = [
    [rule('data.score', 'EQUALS', 80), true],
    [rule('data.score', 'NOT_EQUALS', 80), false],
    [rule('data.score', 'NOT_IN', 1, 2), true],
    [rule('data.score', 'GREATER_THAN', 79), true],
    [rule('data.score', 'GREATER_THAN', 80), false],
    [rule('data.score', 'GREATER_THAN_OR_EQUAL', 80), true],
    [rule('data.score', 'LESS_THAN', 80), false],
    [rule('data.score', 'LESS_THAN_OR_EQUAL', 80), true],
    [rule('data.name', 'CONTAINS', 'Love'), true],
    [rule('data.tags', 'CONTAINS', 'b'), true],
    [rule('data.tags', 'CONTAINS', 'z'), false],
    [rule('data.name', 'STARTS_WITH', 'Ada'), true],
    [rule('data.name', 'STARTS_WITH', 'Love'), false],
    [rule('data.missing', 'IS_NULL'), true],
    [rule('data.name', 'IS_NOT_NULL'), true],
    [rule('data.startDate', 'AFTER_NOW'), true],
    [rule('data.startDate', 'BEFORE_NOW'), false],
    [rule('data.endDate', 'BEFORE_NOW'), true],
    [rule('data.startDate', 'GREATER_THAN', '2026-11-30'), true],
    [rule('data.name', 'CHANGED'), true],
    [rule('data.score', 'CHANGED'), false],
    [rule('data.nested.x', 'CHANGED'), true],
    [rule('data.nested', 'CHANGED'), true],
    [rule('data.name', 'CHANGED_FROM', 'Ada'), true],
    [rule('data.name', 'CHANGED_FROM', 'Bob'), false],
    [rule('previous.score', 'EQUALS', 80), true],
    [rule('actor.type', 'EQUALS', 'admin'), true],
    [rule('entityId', 'EQUALS', '42'), true],
    [rule('clientId', 'IN', 'client-1', 'client-2'), true],
    [rule('data.score', 'GREATER_THAN', 'eighty'), false],
  ];
  it.each(cases.map(([node, expected]) => [JSON.stringify(node), node, expected] as const))('%s → %s', (_name, node, expected) => {
    expect(evaluate(node, e, now).matched).toBe(expected);
  });
});

describe('groups', () => {
  const e = event({ data: { status: 'Booked', type: 'Trainer' } });

  it('ANY holds when one child holds', () => {
    expect(evaluate(any(rule('data.type', 'EQUALS', 'Delegate'), rule('data.status', 'EQUALS', 'Booked')), e, now).matched).toBe(true);
  });

  it('ANY that fails lists every failing child', () => {
    const result = evaluate(any(rule('data.type', 'EQUALS', 'Delegate'), rule('data.status', 'EQUALS', 'Completed')), e, now);
    expect(result).toEqual({
      matched: false,
      reasons: ['none of these held: data.type is "Trainer", not "Delegate"; data.status is "Booked", not "Completed"'],
    });
  });

  it('groups nest: ALL(status Booked, ANY(type Delegate, type Trainer))', () => {
    const tree = all(rule('data.status', 'EQUALS', 'Booked'), any(rule('data.type', 'EQUALS', 'Delegate'), rule('data.type', 'EQUALS', 'Trainer')));
    expect(evaluate(tree, e, now).matched).toBe(true);
  });

  it('an empty group holds (no conditions: every event)', () => {
    expect(evaluate(all(), e, now).matched).toBe(true);
    expect(evaluate(any(), e, now).matched).toBe(true);
  });
});

describe('paths cannot reach prototypes', () => {
  it('__proto__ and constructor read as missing', () => {
    const e = event({ data: { a: 1 } });
    expect(evaluate(rule('data.__proto__', 'IS_NULL'), e, now).matched).toBe(true);
    expect(evaluate(rule('data.constructor', 'IS_NULL'), e, now).matched).toBe(true);
  });
});
