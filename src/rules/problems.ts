import { InputError, type FieldProblem } from './errors.ts';

/** Collects every problem with an input, so one answer names them all. */
export class Problems {
  readonly list: FieldProblem[] = [];

  add(field: string, message: string): void {
    this.list.push({ field, message });
  }

  check(ok: boolean, field: string, message: string): boolean {
    if (!ok) this.add(field, message);
    return ok;
  }

  /** A whole number from `min` to `max`. */
  range(field: string, value: number, min: number, max: number, unit: string): boolean {
    return this.check(Number.isInteger(value) && value >= min && value <= max, field, `must be a whole number from ${min} to ${max} ${unit} (got ${value})`);
  }

  get empty(): boolean {
    return this.list.length === 0;
  }

  throwIfAny(): void {
    if (this.list.length > 0) throw new InputError(this.list);
  }
}

export function text(
  problems: Problems,
  field: string,
  value: string | null | undefined,
  { required = false, max = 200 }: { required?: boolean; max?: number } = {},
): string | undefined {
  if (value === undefined || value === null) {
    if (required) problems.add(field, 'is required');
    return undefined;
  }
  const trimmed = value.trim();
  if (required && trimmed === '') problems.add(field, 'must not be empty');
  else if (trimmed.length > max) problems.add(field, `must be at most ${max} characters (got ${trimmed.length})`);
  return trimmed;
}

export const IDENTIFIER = /^[a-z][a-z0-9_]*$/;
export const IDENTIFIER_RULE = 'a lower-case identifier: a letter a–z, then letters, digits or _';
