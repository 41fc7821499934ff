import { GraphQLError, Kind, type ASTNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { HeraldError } from '../rules/errors.ts';
import type { Logger } from '../logger.ts';

/**
 * Yoga's error mask: a HeraldError keeps its message and code; GraphQL's own errors are BAD_USER_INPUT (400 when nothing ran, as
 * GraphQL over HTTP asks); anything else is logged and answered only as "Unexpected error.".
 */
export function maskError(log: Logger) {
  return (error: unknown, message: string): Error => {
    const graphqlError = error instanceof GraphQLError ? error : undefined;
    const original = graphqlError ? graphqlError.originalError : error;
    if (original instanceof HeraldError) {
      return new GraphQLError(original.message, {
        nodes: graphqlError?.nodes,
        path: graphqlError?.path,
        extensions: { code: original.code, ...original.details },
      });
    }
    if (graphqlError && isRequestError(graphqlError)) return requestError(graphqlError, original as GraphQLError | undefined);
    log.error({ err: original, path: graphqlError?.path }, 'unexpected error in a GraphQL operation');
    return new GraphQLError(message, {
      nodes: graphqlError?.nodes,
      path: graphqlError?.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
  };
}

/** An error about the request itself (parse, validation, variables, limits, pagination), not raised by Herald. */
const isRequestError = (error: GraphQLError) => !error.originalError || error.originalError instanceof GraphQLError;

/** An error that is the client's doing (a refusal Herald or GraphQL made on purpose), not a fault of the server. */
export const isClientMistake = (error: unknown): boolean => error instanceof GraphQLError && (isRequestError(error) || error.originalError instanceof HeraldError);

/** Yoga's own codes for a document that does not parse or validate: the client's input too. */
const REQUEST_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST']);

/** A GraphQL error about the request itself, with a code, the argument it names, and its fullest message. */
export function requestError(error: GraphQLError, inner?: GraphQLError): GraphQLError {
  // graphql-js wraps the scalar's reason in a message that names the variable: keep the longer one.
  const source = inner && !error.message.includes(inner.message) ? inner : error;
  const extensions: Record<string, unknown> = { ...inner?.extensions, ...error.extensions };
  if (extensions.code && !REQUEST_CODES.has(extensions.code as string)) {
    return source === error && !inner ? error : new GraphQLError(source.message, { ...where(error), extensions });
  }
  const text = source.message.replace(/^Syntax Error: (?=.* limit of )/, '');
  const field = (extensions.field as string | undefined) ?? /^Argument "(\w+)"/.exec(text)?.[1];
  const executed = error.path !== undefined;
  return new GraphQLError(text, {
    ...where(error),
    extensions: { ...extensions, code: 'BAD_USER_INPUT', ...(field ? { field } : {}), ...(executed ? {} : { http: extensions.code === 'BAD_REQUEST' ? (extensions.http as typeof SPEC_400) : SPEC_400 }) },
  });
}

/**
 * A document that does not parse, validate or take its variables: 400 under application/graphql-response+json,
 * 200 under application/json (yoga reads `spec`). Malformed request parameters (BAD_REQUEST) keep yoga's plain 400.
 */
const SPEC_400 = { status: 400, spec: true };

/** Which of a connection's cursor arguments the field was given, by its literal or its variable's value (both together are refused). */
function cursorArgument(field: ASTNode | undefined, variables: Record<string, unknown> | null | undefined): string {
  const given = (name: string) => {
    const value = field?.kind === Kind.FIELD ? field.arguments?.find((a) => a.name.value === name)?.value : undefined;
    return value?.kind === Kind.VARIABLE ? variables?.[value.name.value] != null : value !== undefined && value.kind !== Kind.NULL;
  };
  return given('before') && !given('after') ? 'before' : 'after';
}

const where = (error: GraphQLError) => ({ nodes: error.nodes, source: error.source, positions: error.positions, path: error.path });

/**
 * Yoga answers documents that fail to validate without passing them through the mask:
 * this gives them the same code as every other request error. A cursor Pothos could not
 * read is named by the argument it came in, which only the operation's variables tell.
 */
export function requestErrorCodes(): Plugin {
  return {
    onExecute({ args }) {
      return {
        onExecuteDone({ result, setResult }) {
          if (!('errors' in result) || !result.errors?.some((e) => e.message.startsWith('Invalid cursor'))) return;
          const named = (e: GraphQLError) =>
            new GraphQLError(e.message, { ...where(e), originalError: e.originalError, extensions: { ...e.extensions, field: cursorArgument(e.nodes?.[0], args.variableValues) } });
          setResult({ ...result, errors: result.errors.map((e) => (e.message.startsWith('Invalid cursor') ? named(e) : e)) });
        },
      };
    },
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result) || !('errors' in result) || !result.errors?.length) return;
      if (!result.errors.some((e) => REQUEST_CODES.has(e.extensions?.code as string))) return;
      setResult({ ...result, errors: result.errors.map((e) => (e instanceof GraphQLError && REQUEST_CODES.has(e.extensions.code as string) ? requestError(e) : e)) });
    },
  };
}
