// What the API's errors say, as a person should read them, with the input fields they name.

export interface FieldProblem {
  field: string;
  message: string;
}

/** An error answer of the API, with the input fields it names (`input.label` → `label`). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly problems: FieldProblem[],
  ) {
    super(message);
  }

  /** Problems by form field: the path without its `input.`/`webhook.` prefix. */
  byField(): Record<string, string> {
    const fields: Record<string, string> = {};
    for (const { field, message } of this.problems) {
      const name = field.replace(/^(input|webhook|filter)\./, '');
      fields[name] = fields[name] ? `${fields[name]}; ${message}` : message;
    }
    return fields;
  }
}

/** A GraphQL error as it comes over the wire. */
export interface WireError {
  message: string;
  extensions?: { code?: string; field?: unknown; problems?: unknown };
}

export function toApiError(errors: readonly WireError[]): ApiError {
  const first = errors[0] ?? {};
  const problems: FieldProblem[] = errors.flatMap((e) => {
    const ext = e.extensions ?? {};
    if (Array.isArray(ext.problems)) return ext.problems as FieldProblem[];
    if (typeof ext.field === 'string') return [{ field: ext.field, message: e.message }];
    return [];
  });
  return new ApiError(errors.map((e) => forPeople(e.extensions?.code, e.message)).join('\n'), first.extensions?.code, problems);
}

/** An API error as a person should read it: no field names of the schema, and what to do. */
function forPeople(code: string | undefined, message: string): string {
  if (code === 'FORBIDDEN') {
    const needs = /it needs (.+)$/.exec(message)?.[1];
    const yours = /for (a \w+ (?:portal session|key)|the operator key)/.exec(message)?.[1];
    return `Not allowed with ${yours ? yours.replace(/^a /, 'your ') : 'your key'}${needs ? `: this needs ${needs}` : ''}. Ask an admin of this tenant.`;
  }
  if (code === 'INTERNAL_SERVER_ERROR' || message === 'Unexpected error.') return 'Herald could not do this because of an error on the server. Try again; if it keeps happening, the operator can find it in the server log.';
  return message;
}

