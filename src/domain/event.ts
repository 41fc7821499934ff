/** An event as the pure modules (conditions, payloads) see it. */
export interface EventShape {
  id: string;
  topic: string;
  action: string;
  entityId: string;
  /** The entity now; absent on deletes. */
  data: Record<string, unknown> | null;
  /** The entity before the change, when the host sent it. */
  previous: Record<string, unknown> | null;
  /** Paths (relative to data) the host says changed, when it sent them. */
  changedFields: string[] | null;
  actor: { type: string; id: string | null } | null;
  clientId: string | null;
  correlationId: string | null;
  occurredAt: Date;
}

export const eventType = (e: Pick<EventShape, 'topic' | 'action'>) => `${e.topic}.${e.action}`;

/** Reads a dotted path (`session.id`) inside a value; undefined when any step is missing. */
export function readPath(value: unknown, path: string): unknown {
  let current = value;
  for (const step of path.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, step)) return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}

/** Writes a dotted path into a plain object, creating the objects on the way. */
export function writePath(target: Record<string, unknown>, path: string, value: unknown): void {
  const steps = path.split('.');
  let current = target;
  for (const step of steps.slice(0, -1)) {
    const next = current[step];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) current[step] = {};
    current = current[step] as Record<string, unknown>;
  }
  current[steps.at(-1)!] = value;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b as object, k) && deepEqual((a as never)[k], (b as never)[k]));
}

/**
 * The paths (relative to data) whose values differ between `previous` and `data`,
 * descending into nested objects; arrays and scalars compare as a whole.
 */
export function changedPaths(previous: unknown, current: unknown, prefix = ''): string[] {
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(previous) || !isObject(current)) return deepEqual(previous, current) ? [] : [prefix];
  const keys = [...new Set([...Object.keys(previous), ...Object.keys(current)])];
  return keys.flatMap((key) => changedPaths(previous[key], current[key], prefix ? `${prefix}.${key}` : key));
}
