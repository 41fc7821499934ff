/**
 * Errors the domain raises on purpose. The GraphQL layer turns them into
 * GraphQL errors with `extensions.code` (src/graphql/errors.ts); anything else
 * is masked as an internal error.
 */
export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'RATE_LIMITED';

export interface FieldProblem {
  /** Path of the offending input field, e.g. `input.fields[2].mergeTag`. */
  field: string;
  message: string;
}

export class HeraldError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HeraldError';
  }
}

export class InputError extends HeraldError {
  constructor(readonly problems: FieldProblem[]) {
    super('BAD_USER_INPUT', problems.map((p) => `${p.field}: ${p.message}`).join('; '), {
      field: problems[0]?.field,
      problems,
    });
    this.name = 'InputError';
  }
}

export const unauthenticated = (message: string) => new HeraldError('UNAUTHENTICATED', message);
export const forbidden = (message: string) => new HeraldError('FORBIDDEN', message);
export const notFound = (what: string, ref: string) =>
  new HeraldError('NOT_FOUND', `${what} ${JSON.stringify(ref)} was not found`);
export const conflict = (message: string, field?: string) =>
  new HeraldError('CONFLICT', message, field ? { field } : {});

/** Over a limit: try again after `retryAfterMs` (also a Retry-After header, in whole seconds, over HTTP). */
export const rateLimited = (message: string, retryAfterMs: number) =>
  new HeraldError('RATE_LIMITED', message, { retryAfterMs, http: { headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) } } });
