/** Dotted paths into an entity's data (`session.id`): checking, reading, writing and comparing them, safely. */

/** Segments that name JavaScript's object machinery, never an entity's field. */
const MACHINERY = new Set(['__proto__', 'constructor', 'prototype']);
const SEGMENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Why a dotted path (`session.id`) given by a client cannot be used, or null when it can:
 * identifiers joined by dots, none of them `__proto__`, `constructor` or `prototype`.
 */
export function pathProblem(path: string): string | null {
  const steps = path.split('.');
  if (!steps.every((s) => SEGMENT.test(s))) return `"${path}" is not a dotted path of identifiers such as status or session.id`;
  const machinery = steps.find((s) => MACHINERY.has(s));
  return machinery ? `"${path}" names "${machinery}", which is reserved and cannot be a field` : null;
}

/** An own property of a value, never one inherited from its prototype. */
export function own(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' && Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}

/** Reads a dotted path (`session.id`) inside a value; undefined when any step is missing. */
export function readPath(value: unknown, path: string): unknown {
  let current = value;
  for (const step of path.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, step)) return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}

/**
 * Writes a dotted path into a plain object, creating the objects on the way. Every step
 * is an own property (defined, not assigned), so a key named `__proto__` stays data.
 */
export function writePath(target: Record<string, unknown>, path: string, value: unknown): void {
  const steps = path.split('.');
  let current = target;
  for (const step of steps.slice(0, -1)) {
    let next = own(current, step);
    if (next === null || typeof next !== 'object' || Array.isArray(next)) {
      next = {};
      define(current, step, next);
    }
    current = next as Record<string, unknown>;
  }
  define(current, steps.at(-1)!, value);
}

function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b as object, k) && deepEqual(own(a, k), own(b, k)));
}

/**
 * The paths (relative to data) whose values differ between `previous` and `data`,
 * descending into nested objects; arrays and scalars compare as a whole.
 */
export function changedPaths(previous: unknown, current: unknown, prefix = ''): string[] {
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(previous) || !isObject(current)) return deepEqual(previous, current) ? [] : [prefix];
  const keys = [...new Set([...Object.keys(previous), ...Object.keys(current)])];
  return keys.flatMap((key) => changedPaths(own(previous, key), own(current, key), prefix ? `${prefix}.${key}` : key));
}
