import { Liquid, type Template } from 'liquidjs';

export type TemplateFormat = 'JSON' | 'XML' | 'FORM' | 'TEXT';

export interface TemplateError {
  message: string;
  line: number;
  column: number;
}

/** A merge tag of the topic catalog (`@@CandidateForename`) and the data path it reads. */
export interface MergeTag {
  tag: string;
  path: string;
}

/**
 * What one render may take: its time (Liquid stops it), the time all renders of one
 * request may take together (publishEvents, preview, test), and the size of the body.
 */
export const RENDER_LIMITS = { renderMs: 100, requestMs: 2000, bodyBytes: 1024 * 1024 };

const MERGE_TAG = /@@[A-Za-z][A-Za-z0-9_]*/g;
const MERGE_VARIABLE = 'herald_merge';

/** Tags every template may use, whatever the topic. */
export const BUILT_IN_TAGS: Record<string, (vars: TemplateVariables) => unknown> = {
  '@@EntityId': (v) => v.event.entityId,
  '@@EventId': (v) => v.event.id,
  '@@EventType': (v) => v.event.type,
  '@@Action': (v) => v.event.action,
  '@@Topic': (v) => v.event.topic,
  '@@OccurredAt': (v) => v.event.occurredAt,
  '@@ResourceUrl': (v) => v.event.resourceUrl,
};

export interface TemplateVariables {
  event: Record<string, unknown> & { id: string; type: string; action: string; topic: string; entityId: string; occurredAt: string; resourceUrl: string | null };
  data: Record<string, unknown> | null;
  previous: Record<string, unknown> | null;
  changedFields: string[];
  actor: unknown;
}

/** Escapes a value for where a template puts it, so data cannot break the document. */
const ESCAPE: Record<TemplateFormat, (value: unknown) => string> = {
  JSON: (v) => (typeof v === 'string' ? JSON.stringify(v).slice(1, -1) : v === undefined ? 'null' : JSON.stringify(v)),
  XML: (v) =>
    stringOf(v).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!),
  FORM: (v) => encodeURIComponent(stringOf(v)),
  TEXT: (v) => stringOf(v),
};

function stringOf(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const engines = new Map<TemplateFormat, Liquid>();
function engine(format: TemplateFormat): Liquid {
  let liquid = engines.get(format);
  if (!liquid) {
    // Liquid runs no code, and with ownPropertyOnly a template cannot reach prototypes.
    liquid = new Liquid({
      ownPropertyOnly: true,
      strictFilters: true,
      outputEscape: ESCAPE[format],
      cache: false,
      parseLimit: 100_000,
      renderLimit: RENDER_LIMITS.renderMs,
      memoryLimit: 10_000_000,
    });
    engines.set(format, liquid);
  }
  return liquid;
}

interface Compiled {
  templates: Template[];
  tags: string[];
}

const compiled = new Map<string, Compiled | TemplateError>();

/**
 * Parses a template: merge tags (`@@Tag`) must be in the catalog or built in; the rest
 * is Liquid (loops, conditionals, filters). Errors carry the line and column in the
 * template as written.
 */
export function compileTemplate(source: string, format: TemplateFormat, mergeTags: MergeTag[]): Compiled | TemplateError {
  const key = `${format}\u0000${mergeTags.map((m) => m.tag).join(',')}\u0000${source}`;
  const cached = compiled.get(key);
  if (cached) return cached;
  const result = compileUncached(source, format, mergeTags);
  if (compiled.size > 500) compiled.clear();
  compiled.set(key, result);
  return result;
}

export function isTemplateError(value: Compiled | TemplateError): value is TemplateError {
  return 'message' in value;
}

function compileUncached(source: string, format: TemplateFormat, mergeTags: MergeTag[]): Compiled | TemplateError {
  const known = new Set([...mergeTags.map((m) => m.tag), ...Object.keys(BUILT_IN_TAGS)]);
  const shifts: Array<{ line: number; column: number; delta: number }> = [];
  const tags = new Set<string>();
  const lines = source.split('\n');
  let unknown: TemplateError | undefined;
  const rewritten = lines
    .map((text, index) => {
      let delta = 0;
      return text.replace(MERGE_TAG, (tag, offset: number) => {
        if (!known.has(tag) && !unknown) {
          const allowed = [...known].sort().join(', ');
          unknown = { message: `unknown merge tag ${tag}; the topic's catalog and Herald offer: ${allowed}`, line: index + 1, column: offset + 1 };
        }
        tags.add(tag);
        const replacement = `{{ ${MERGE_VARIABLE}["${tag.slice(2)}"] }}`;
        delta += replacement.length - tag.length;
        shifts.push({ line: index + 1, column: offset + 1 + delta, delta });
        return replacement;
      });
    })
    .join('\n');
  if (unknown) return unknown;
  try {
    return { templates: engine(format).parse(rewritten), tags: [...tags] };
  } catch (error) {
    const e = error as Error & { token?: { getPosition(): [number, number] } };
    const [line, column] = e.token?.getPosition() ?? [1, 1];
    const before = shifts.filter((s) => s.line === line && s.column <= column).at(-1);
    const message = e.message.replace(/, line:\d+, col:\d+$/, '');
    return { message, line, column: column - (before?.delta ?? 0) };
  }
}

/** Renders a compiled template; merge tags read the catalog paths inside `data`. */
export function renderTemplate(
  compiledTemplate: Compiled,
  format: TemplateFormat,
  vars: TemplateVariables,
  mergeTags: MergeTag[],
  read: (path: string) => unknown,
): string {
  const merge: Record<string, unknown> = {};
  for (const tag of compiledTemplate.tags) {
    const builtIn = BUILT_IN_TAGS[tag];
    const entry = mergeTags.find((m) => m.tag === tag);
    merge[tag.slice(2)] = builtIn ? builtIn(vars) : entry ? (read(entry.path) ?? null) : null;
  }
  return engine(format).renderSync(compiledTemplate.templates, { ...vars, [MERGE_VARIABLE]: merge }) as string;
}
