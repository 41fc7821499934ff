import {
  getNullableType,
  isInputObjectType,
  isListType,
  isObjectType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLFieldResolver,
  type GraphQLInputType,
  type GraphQLSchema,
  GraphQLError,
} from 'graphql';
import { InputError, type FieldProblem } from '../rules/errors.ts';
import { dateProblem, jsonProblems, MAX_JSON_DEPTH, nesting, textProblem, isUuid } from '../rules/values.ts';

/**
 * Checks every argument of every field by its GraphQL type before a resolver sees it (UUIDs, text and JSON PostgreSQL keeps exactly,
 * bounded nesting, four-digit years): a bad value is BAD_USER_INPUT naming its path, never an internal error.
 */
export function guardArguments(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (field.args.length === 0) continue;
      if (field.resolve) field.resolve = guarded(field.args, field.resolve);
      if (field.subscribe) field.subscribe = guarded(field.args, field.subscribe);
    }
  }
  return schema;
}

function guarded(args: readonly GraphQLArgument[], resolve: GraphQLFieldResolver<unknown, unknown>): GraphQLFieldResolver<unknown, unknown> {
  return (parent, values, ctx, info) => {
    const problems: FieldProblem[] = [];
    for (const arg of args) check(problems, arg.name, arg.type, (values as Record<string, unknown>)[arg.name]);
    if (problems.length > 0) throw new InputError(problems.slice(0, 20));
    return resolve(parent, values, ctx, info);
  };
}

function check(problems: FieldProblem[], at: string, type: GraphQLInputType, value: unknown): void {
  if (value === null || value === undefined || problems.length >= 20) return;
  const inner = getNullableType(type);
  if (isListType(inner)) {
    if (Array.isArray(value)) value.forEach((item, i) => check(problems, `${at}[${i}]`, inner.ofType, item));
  } else if (isInputObjectType(inner)) {
    for (const field of Object.values(inner.getFields())) {
      if (Object.hasOwn(value as object, field.name)) check(problems, `${at}.${field.name}`, field.type, (value as Record<string, unknown>)[field.name]);
    }
  } else if (isScalarType(inner)) {
    const problem = scalarProblem(inner.name, value);
    if (problem) problems.push({ field: at, message: problem });
    if (inner.name === 'JSON') for (const p of jsonProblems(value)) problems.push({ field: `${at}${p.at}`, message: p.message });
  }
}

function scalarProblem(scalar: string, value: unknown): string | null {
  if (scalar === 'ID') return isUuid(String(value)) ? null : `${JSON.stringify(String(value).slice(0, 60))} is not a Herald id: ids are UUIDs such as 0192f3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d`;
  if (scalar === 'String' && typeof value === 'string') return textProblem(value);
  if (scalar === 'DateTime' && value instanceof Date) return dateProblem(value);
  return null;
}

/** Deepest variables accepted: event data's own limit, plus room for the inputs around it. */
export const MAX_VARIABLES_DEPTH = MAX_JSON_DEPTH + 32;

/**
 * Refuses variables nested past MAX_VARIABLES_DEPTH before graphql-js coerces them
 * (its coercion recurses, so 100,000 levels would overflow the stack).
 */
export function checkVariableDepth(variables: unknown): void {
  if (nesting(variables, MAX_VARIABLES_DEPTH) > MAX_VARIABLES_DEPTH) {
    throw new GraphQLError(`variables nest deeper than ${MAX_VARIABLES_DEPTH} levels; event data may nest at most ${MAX_JSON_DEPTH}`, {
      extensions: { code: 'BAD_USER_INPUT', field: 'variables', http: { status: 400 } },
    });
  }
}
