import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { HeraldError } from '../rules/errors.ts';
import type { Logger } from '../logger.ts';

/**
 * Yoga's error mask: a HeraldError keeps its message and gets `extensions.code`;
 * GraphQL's own errors (parse, validation, variables, limits, pagination arguments)
 * are the client's input: BAD_USER_INPUT with their whole message, answered 400
 * when nothing was executed (200 to a client that accepts only application/json, as
 * GraphQL over HTTP asks); anything else is logged and shown only as "Unexpected error.".
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
  const field = /^Argument "(\w+)"/.exec(text)?.[1] ?? (/^Invalid cursor/.test(text) ? 'after' : undefined);
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

const where = (error: GraphQLError) => ({ nodes: error.nodes, source: error.source, positions: error.positions, path: error.path });

/**
 * Yoga answers documents that fail to validate without passing them through the mask:
 * this gives them the same code as every other request error.
 */
export function requestErrorCodes(): Plugin {
  return {
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result) || !('errors' in result) || !result.errors?.length) return;
      if (!result.errors.some((e) => REQUEST_CODES.has(e.extensions?.code as string))) return;
      setResult({ ...result, errors: result.errors.map((e) => (e instanceof GraphQLError && REQUEST_CODES.has(e.extensions.code as string) ? requestError(e) : e)) });
    },
  };
}
