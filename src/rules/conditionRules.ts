import { ARITY, CHANGE_OPERATORS, isIsoDate, type Operator } from './conditions.ts';
import { pathProblem } from './paths.ts';
import type { Problems } from './problems.ts';
import { type TopicInfo } from './topics.ts';

/** What a condition is checked against: the (topic, action) pairs a webhook receives. */
export interface RuleContext {
  events: Array<{ topic: string; action: string }>;
  topics: Map<string, TopicInfo>;
}

export interface RuleInput {
  path: string;
  operator: Operator;
  values: unknown[];
}

const ROOTS = ['data', 'previous', 'actor.type', 'actor.id', 'entityId', 'action', 'topic', 'clientId', 'correlationId', 'occurredAt'];
const ORDERED = ['NUMBER', 'INTEGER', 'STRING', 'DATE', 'DATETIME'];
const COMPARISONS: Operator[] = ['GREATER_THAN', 'GREATER_THAN_OR_EQUAL', 'LESS_THAN', 'LESS_THAN_OR_EQUAL'];

/**
 * Checks one rule before it is saved: a path Herald can read, the right number and
 * type of values, and that it can hold for the webhook's events at all.
 */
export function checkRule(problems: Problems, at: string, rule: RuleInput, ctx: RuleContext): void {
  const { path, operator, values } = rule;
  const [min, max] = ARITY[operator];
  if (values.length < min || values.length > max) {
    const wanted = min === max ? (min === 0 ? 'no values' : `exactly ${min} value`) : `${min} to ${max} values`;
    problems.add(`${at}.values`, `${operator} takes ${wanted} (got ${values.length})`);
  }
  const root = path.split('.')[0]!;
  const inData = root === 'data' || root === 'previous';
  const dataPathProblem = inData && path.includes('.') ? pathProblem(path.slice(root.length + 1)) : null;
  if (dataPathProblem || !(inData ? path.includes('.') : ROOTS.includes(path))) {
    problems.add(`${at}.path`, `"${path}" is not a path Herald can read${dataPathProblem ? ` (${dataPathProblem})` : ''}; use data.<field>, previous.<field>, ${ROOTS.slice(2).join(', ')}`);
    return;
  }
  if (CHANGE_OPERATORS.includes(operator) && root !== 'data') {
    problems.add(`${at}.operator`, `${operator} compares data with previous data, so its path must start with data. (got "${path}")`);
    return;
  }
  const deletesOnly = ctx.events.length > 0 && ctx.events.every((e) => e.action === 'deleted');
  const createsOnly = ctx.events.length > 0 && ctx.events.every((e) => e.action === 'created');
  if (inData && deletesOnly) {
    problems.add(`${at}.path`, `this webhook only receives delete events, which carry only the entity id: "${path}" would never be there`);
    return;
  }
  if ((root === 'previous' || CHANGE_OPERATORS.includes(operator)) && createsOnly) {
    problems.add(`${at}.${root === 'previous' ? 'path' : 'operator'}`, 'this webhook only receives created events, which have no previous state, so this condition could never hold');
    return;
  }
  if (inData) {
    checkDataPath(problems, at, rule, ctx);
  } else if (path === 'action') {
    const actions = [...new Set(ctx.events.map((e) => e.action))];
    values.forEach((v, i) => {
      if (!actions.includes(String(v))) problems.add(`${at}.values[${i}]`, `this webhook receives the actions ${actions.join(', ')}; "${String(v)}" never comes`);
    });
  } else {
    checkScalarValues(problems, at, values);
  }
}

function checkDataPath(problems: Problems, at: string, rule: RuleInput, ctx: RuleContext): void {
  const fieldPath = rule.path.split('.').slice(1).join('.');
  const topicKeys = [...new Set(ctx.events.map((e) => e.topic))];
  const catalogs = topicKeys.map((k) => ctx.topics.get(k)).filter((t) => t && t.fields.length > 0) as TopicInfo[];
  if (catalogs.length === 0) {
    checkScalarValues(problems, at, rule.values);
    return;
  }
  const field = catalogs.flatMap((t) => t.fields).find((f) => f.path === fieldPath);
  if (!field) {
    const known = [...new Set(catalogs.flatMap((t) => t.fields.map((f) => f.path)))];
    problems.add(`${at}.path`, `"${fieldPath}" is not in the field catalog of ${catalogs.map((t) => t.key).join(', ')}; known fields: ${known.join(', ')}`);
    return;
  }
  const { operator, values } = rule;
  const bad = (why: string) => problems.add(`${at}.operator`, `${operator} ${why} (${rule.path} is ${field.type})`);
  if (COMPARISONS.includes(operator) && !ORDERED.includes(field.type)) return bad('needs a number, text or date field');
  if (operator === 'STARTS_WITH' && !['STRING', 'ENUM'].includes(field.type)) return bad('needs a text field');
  if (operator === 'CONTAINS' && !['STRING', 'ARRAY'].includes(field.type)) return bad('needs a text or list field');
  if ((operator === 'BEFORE_NOW' || operator === 'AFTER_NOW') && !['DATE', 'DATETIME'].includes(field.type)) return bad('needs a date field');
  if (operator === 'CONTAINS' && field.type === 'ARRAY') return checkScalarValues(problems, at, values);
  values.forEach((value, i) => {
    const where = `${at}.values[${i}]`;
    switch (field.type) {
      case 'NUMBER':
        if (typeof value !== 'number') problems.add(where, `${rule.path} is a NUMBER: expected a number, got ${JSON.stringify(value)}`);
        break;
      case 'INTEGER':
        if (!Number.isInteger(value)) problems.add(where, `${rule.path} is an INTEGER: expected a whole number, got ${JSON.stringify(value)}`);
        break;
      case 'BOOLEAN':
        if (typeof value !== 'boolean') problems.add(where, `${rule.path} is a BOOLEAN: expected true or false, got ${JSON.stringify(value)}`);
        break;
      case 'DATE':
      case 'DATETIME':
        if (!isIsoDate(value)) problems.add(where, `${rule.path} is a ${field.type}: expected an ISO 8601 date such as 2026-11-24, got ${JSON.stringify(value)}`);
        break;
      case 'ENUM':
        if (field.values.length > 0 && !field.values.includes(value as string)) {
          problems.add(where, `${rule.path} takes one of ${field.values.join(', ')}; got ${JSON.stringify(value)}`);
        }
        break;
      case 'STRING':
        if (typeof value !== 'string') problems.add(where, `${rule.path} is a STRING: expected text, got ${JSON.stringify(value)}`);
        break;
      default:
        if (value !== null && typeof value === 'object') problems.add(where, `must be text, a number, true/false or null (got ${JSON.stringify(value)})`);
    }
  });
}

function checkScalarValues(problems: Problems, at: string, values: unknown[]): void {
  values.forEach((value, i) => {
    if (value !== null && !['string', 'number', 'boolean'].includes(typeof value)) {
      problems.add(`${at}.values[${i}]`, `must be text, a number, true/false or null (got ${JSON.stringify(value)})`);
    }
  });
}
