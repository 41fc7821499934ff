/**
 * What Herald can store and send exactly: no NUL in text or JSON, no lone surrogates, integers within 2^53, finite numbers, JSON
 * that does not nest without end.
 */

/** How deep event data (or any JSON argument) may nest: `{"a":{"b":1}}` is 2 levels. */
export const MAX_JSON_DEPTH = 32;
const LONE_SURROGATE = /\p{Cs}/u;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (value: string): boolean => UUID.test(value);

export interface ValueProblem {
  /** Where inside the value, e.g. `.session.name` or `[2]`; empty for the value itself. */
  at: string;
  message: string;
}

/** Why a string cannot be stored as given, or null. */
export function textProblem(value: string): string | null {
  const nul = value.indexOf('\u0000');
  if (nul >= 0) return `contains NUL (U+0000) at position ${nul}, which cannot be stored; remove it or send it escaped in your own way`;
  if (LONE_SURROGATE.test(value)) return 'contains a lone UTF-16 surrogate (half of a character), which is not valid Unicode text';
  return null;
}

/** Why a number would not survive JSON exactly, or null. */
export function numberProblem(value: number): string | null {
  if (!Number.isFinite(value)) return 'is a number JSON cannot carry (too large, it would become null); send it as a string';
  if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
    return `is an integer beyond ±${Number.MAX_SAFE_INTEGER}, which JSON numbers do not keep exactly; send it as a string`;
  }
  return null;
}

/** Why a date cannot be stored, or null: PostgreSQL and ISO 8601 take years 1 to 9999. */
export function dateProblem(value: Date): string | null {
  const year = value.getUTCFullYear();
  return Number.isNaN(year) || year < 1 || year > 9999 ? 'must be a date between the years 0001 and 9999' : null;
}

/**
 * The first problems of a JSON value: NUL or lone surrogates in strings and keys,
 * numbers JSON would change, nesting past `maxDepth`. Walked without recursion, so
 * any depth is safe to check.
 */
export function jsonProblems(value: unknown, maxDepth = MAX_JSON_DEPTH, limit = 10): ValueProblem[] {
  const problems: ValueProblem[] = [];
  const stack: Array<{ value: unknown; at: string; depth: number }> = [{ value, at: '', depth: 0 }];
  while (stack.length > 0 && problems.length < limit) {
    const { value: v, at, depth } = stack.pop()!;
    if (typeof v === 'string') {
      const problem = textProblem(v);
      if (problem) problems.push({ at, message: problem });
    } else if (typeof v === 'number') {
      const problem = numberProblem(v);
      if (problem) problems.push({ at, message: `${v} ${problem}` });
    } else if (v !== null && typeof v === 'object') {
      if (depth >= maxDepth) {
        problems.push({ at, message: `nests deeper than ${maxDepth} levels, the most Herald takes` });
        continue;
      }
      const entries = Array.isArray(v) ? v.map((item, i) => [`[${i}]`, item] as const) : Object.entries(v).map(([k, item]) => [/^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`, item, k] as const);
      for (const [step, item, key] of entries.reverse() as Array<readonly [string, unknown, string?]>) {
        const keyProblem = key === undefined ? null : textProblem(key);
        if (keyProblem) problems.push({ at: `${at}${step}`, message: `has a key that ${keyProblem}` });
        else stack.push({ value: item, at: `${at}${step}`, depth: depth + 1 });
      }
    }
  }
  return problems.slice(0, limit);
}

/** How deep a value nests (arrays and objects), counted without recursion and stopping past `stopAt`. */
export function nesting(value: unknown, stopAt: number): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > deepest) deepest = depth + 1;
    if (deepest > stopAt) return deepest;
    for (const item of Array.isArray(v) ? v : Object.values(v)) stack.push([item, depth + 1]);
  }
  return deepest;
}

/**
 * Bytes from outside (a receiver's answer) as text that can always be stored: valid
 * UTF-8 as it is, each invalid byte as `\xNN`, NUL as `\u0000`.
 */
export function safeText(bytes: Uint8Array): string {
  const decoded = strictUtf8(bytes);
  if (decoded !== null) return safeString(decoded);
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const length = sequenceLength(bytes, i);
    if (length === 0) {
      out += `\\x${bytes[i]!.toString(16).padStart(2, '0')}`;
      i += 1;
    } else {
      out += Buffer.from(bytes.subarray(i, i + length)).toString('utf8');
      i += length;
    }
  }
  return safeString(out);
}

/** A string from outside that can always be stored: NUL and lone surrogates escaped. */
export function safeString(value: string): string {
  return value.replace(/\u0000/g, '\\u0000').replace(/\p{Cs}/gu, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
function strictUtf8(bytes: Uint8Array): string | null {
  try {
    return UTF8.decode(bytes);
  } catch {
    return null;
  }
}

/** The length of the well-formed UTF-8 sequence at `i`, or 0 when the byte there starts none. */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i]!;
  if (b0 < 0x80) return 1;
  const [length, low, high] = b0 >= 0xc2 && b0 <= 0xdf ? [2, 0x80, 0xbf]
    : b0 === 0xe0 ? [3, 0xa0, 0xbf] : b0 >= 0xe1 && b0 <= 0xec ? [3, 0x80, 0xbf] : b0 === 0xed ? [3, 0x80, 0x9f] : b0 >= 0xee && b0 <= 0xef ? [3, 0x80, 0xbf]
    : b0 === 0xf0 ? [4, 0x90, 0xbf] : b0 >= 0xf1 && b0 <= 0xf3 ? [4, 0x80, 0xbf] : b0 === 0xf4 ? [4, 0x80, 0x8f] : [0, 0, 0];
  if (length === 0 || i + length > bytes.length) return 0;
  const b1 = bytes[i + 1]!;
  if (b1 < low || b1 > high) return 0;
  for (let k = 2; k < length; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return 0;
  return length;
}

/** Items by a key, each group in the items' order (Map.groupBy, which Node 20 lacks), as `value` makes them. */
export function groupBy<T, K, V = T>(items: readonly T[], key: (item: T) => K, value: (item: T) => V = (item) => item as unknown as V): Map<K, V[]> {
  const groups = new Map<K, V[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(value(item));
    else groups.set(key(item), [value(item)]);
  }
  return groups;
}
