import type { EventShape } from './eventShape.ts';
import { changedPaths, deepEqual, readPath } from './paths.ts';

export const OPERATORS = [
  'EQUALS',
  'NOT_EQUALS',
  'IN',
  'NOT_IN',
  'GREATER_THAN',
  'GREATER_THAN_OR_EQUAL',
  'LESS_THAN',
  'LESS_THAN_OR_EQUAL',
  'CONTAINS',
  'STARTS_WITH',
  'IS_EMPTY',
  'IS_NOT_EMPTY',
  'IS_NULL',
  'IS_NOT_NULL',
  'BEFORE_NOW',
  'AFTER_NOW',
  'CHANGED',
  'CHANGED_TO',
  'CHANGED_FROM',
] as const;
export type Operator = (typeof OPERATORS)[number];
export type Combinator = 'ALL' | 'ANY';

export type ConditionNode =
  | { kind: 'GROUP'; combinator: Combinator; children: ConditionNode[] }
  | { kind: 'RULE'; path: string; operator: Operator; values: unknown[] };

/** How many values each operator takes: [min, max]. */
export const ARITY: Record<Operator, [number, number]> = {
  EQUALS: [1, 1],
  NOT_EQUALS: [1, 1],
  IN: [1, 500],
  NOT_IN: [1, 500],
  GREATER_THAN: [1, 1],
  GREATER_THAN_OR_EQUAL: [1, 1],
  LESS_THAN: [1, 1],
  LESS_THAN_OR_EQUAL: [1, 1],
  CONTAINS: [1, 1],
  STARTS_WITH: [1, 1],
  IS_EMPTY: [0, 0],
  IS_NOT_EMPTY: [0, 0],
  IS_NULL: [0, 0],
  IS_NOT_NULL: [0, 0],
  BEFORE_NOW: [0, 0],
  AFTER_NOW: [0, 0],
  CHANGED: [0, 0],
  CHANGED_TO: [1, 500],
  CHANGED_FROM: [1, 500],
};

/** How each operator reads in a sentence (`data.status is one of Completed, Cancelled`). */
export const OPERATOR_LABELS: Record<Operator, string> = {
  EQUALS: 'equals',
  NOT_EQUALS: 'does not equal',
  IN: 'is one of',
  NOT_IN: 'is none of',
  GREATER_THAN: '>',
  GREATER_THAN_OR_EQUAL: '≥',
  LESS_THAN: '<',
  LESS_THAN_OR_EQUAL: '≤',
  CONTAINS: 'contains',
  STARTS_WITH: 'starts with',
  IS_EMPTY: 'is empty',
  IS_NOT_EMPTY: 'is not empty',
  IS_NULL: 'is null or missing',
  IS_NOT_NULL: 'is present (not null)',
  BEFORE_NOW: 'is before now',
  AFTER_NOW: 'is after now',
  CHANGED: 'changed',
  CHANGED_TO: 'changed to',
  CHANGED_FROM: 'changed from',
};

export const CHANGE_OPERATORS: readonly Operator[] = ['CHANGED', 'CHANGED_TO', 'CHANGED_FROM'];

export interface Evaluation {
  matched: boolean;
  /** Why it did not match, one line per failing rule (empty when matched). */
  reasons: string[];
}

/** Empty as a person means it: missing, null, "" (or only spaces), [] or {}. */
export function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (typeof value === 'string') return value.trim() === '';
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.keys(value).length === 0;
  return false;
}

/** Evaluates a condition tree against an event. Pure: `now` is given. */
export function evaluate(node: ConditionNode, event: EventShape, now: Date): Evaluation {
  if (node.kind === 'RULE') {
    const reason = failure(node, event, now);
    return reason === null ? { matched: true, reasons: [] } : { matched: false, reasons: [reason] };
  }
  const results = node.children.map((child) => evaluate(child, event, now));
  if (node.combinator === 'ALL') {
    const failed = results.filter((r) => !r.matched);
    return { matched: failed.length === 0, reasons: failed.flatMap((r) => r.reasons) };
  }
  if (results.length === 0 || results.some((r) => r.matched)) return { matched: true, reasons: [] };
  return { matched: false, reasons: [`none of these held: ${results.flatMap((r) => r.reasons).join('; ')}`] };
}

/** Reads a condition path (`data.status`, `previous.status`, `actor.type`, `entityId`, …) from an event. */
export function resolvePath(event: EventShape, path: string): unknown {
  const [root, ...rest] = path.split('.');
  const tail = rest.join('.');
  switch (root) {
    case 'data':
      return tail ? readPath(event.data, tail) : event.data;
    case 'previous':
      return tail ? readPath(event.previous, tail) : event.previous;
    case 'actor':
      return tail ? readPath(event.actor, tail) : event.actor;
    case 'occurredAt':
      return event.occurredAt.toISOString();
    default:
      return readPath(event, path);
  }
}

const show = (value: unknown) => (value === undefined ? 'missing' : JSON.stringify(value));

/** null when the rule holds, else the reason it does not. */
function failure(rule: Extract<ConditionNode, { kind: 'RULE' }>, event: EventShape, now: Date): string | null {
  const { path, operator, values } = rule;
  const actual = resolvePath(event, path);
  const first = values[0];
  const is = `${path} is ${show(actual)}`;
  const when = (ok: boolean, reason: string) => (ok ? null : reason);
  switch (operator) {
    case 'EQUALS':
      return when(deepEqual(actual, first), `${is}, not ${show(first)}`);
    case 'NOT_EQUALS':
      return when(!deepEqual(actual, first), `${is}`);
    case 'IN':
      return when(values.some((v) => deepEqual(actual, v)), `${is}, not one of ${show(values)}`);
    case 'NOT_IN':
      return when(!values.some((v) => deepEqual(actual, v)), `${is}, which is one of ${show(values)}`);
    case 'GREATER_THAN':
    case 'GREATER_THAN_OR_EQUAL':
    case 'LESS_THAN':
    case 'LESS_THAN_OR_EQUAL': {
      const order = compare(actual, first);
      const ok =
        order !== null &&
        (operator === 'GREATER_THAN' ? order > 0 : operator === 'GREATER_THAN_OR_EQUAL' ? order >= 0 : operator === 'LESS_THAN' ? order < 0 : order <= 0);
      const words = { GREATER_THAN: 'greater than', GREATER_THAN_OR_EQUAL: 'at least', LESS_THAN: 'less than', LESS_THAN_OR_EQUAL: 'at most' };
      return when(ok, `${is}, not ${words[operator]} ${show(first)}`);
    }
    case 'CONTAINS':
      return when(
        (typeof actual === 'string' && typeof first === 'string' && actual.includes(first)) ||
          (Array.isArray(actual) && actual.some((v) => deepEqual(v, first))),
        `${is}, which does not contain ${show(first)}`,
      );
    case 'STARTS_WITH':
      return when(typeof actual === 'string' && typeof first === 'string' && actual.startsWith(first), `${is}, which does not start with ${show(first)}`);
    case 'IS_EMPTY':
      return when(isEmpty(actual), `${is}, not empty`);
    case 'IS_NOT_EMPTY':
      return when(!isEmpty(actual), actual === undefined ? `${path} is missing` : `${is}, which is empty`);
    case 'IS_NULL':
      return when(actual === null || actual === undefined, `${is}, not null`);
    case 'IS_NOT_NULL':
      return when(actual !== null && actual !== undefined, `${path} is null`);
    case 'BEFORE_NOW':
    case 'AFTER_NOW': {
      const time = toTime(actual);
      const ok = time !== null && (operator === 'BEFORE_NOW' ? time < now.getTime() : time > now.getTime());
      return when(ok, `${is}, not ${operator === 'BEFORE_NOW' ? 'before' : 'after'} now (${now.toISOString()})`);
    }
    case 'CHANGED':
    case 'CHANGED_TO':
    case 'CHANGED_FROM': {
      if (!changed(event, path)) return `${path} did not change`;
      if (operator === 'CHANGED') return null;
      if (operator === 'CHANGED_TO') {
        return when(values.some((v) => deepEqual(actual, v)), `${path} changed to ${show(actual)}, not to one of ${show(values)}`);
      }
      const before = event.previous ? resolvePath(event, path.replace(/^data\./, 'previous.')) : undefined;
      if (before === undefined && !event.previous) return `${path} changed, but the event carries no previous value to compare`;
      return when(values.some((v) => deepEqual(before, v)), `${path} changed from ${show(before)}, not from one of ${show(values)}`);
    }
  }
}

/** Whether a `data.…` path changed: by the host's list of changed fields, else by comparing with `previous`. */
export function changed(event: EventShape, path: string): boolean {
  const field = path.replace(/^data\./, '');
  if (event.changedFields) {
    return event.changedFields.some((f) => f === field || f.startsWith(`${field}.`) || field.startsWith(`${f}.`));
  }
  if (!event.previous) return false;
  return changedPaths(event.previous, event.data ?? {}).some(
    (f) => f === field || f.startsWith(`${field}.`) || field.startsWith(`${f}.`),
  );
}

function toTime(value: unknown): number | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  const time = new Date(value).getTime();
  return Number.isNaN(time) ? null : time;
}

/** Orders numbers numerically, dates by time and other strings by code point; null when they cannot be compared. */
function compare(a: unknown, b: unknown): number | null {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') {
    const ta = ISO_DATE.test(a) ? toTime(a) : null;
    const tb = ISO_DATE.test(b) ? toTime(b) : null;
    if (ta !== null && tb !== null) return ta - tb;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  return null;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/;
export const isIsoDate = (value: unknown) => typeof value === 'string' && ISO_DATE.test(value) && toTime(value) !== null;
