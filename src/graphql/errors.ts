import { GraphQLError } from 'graphql';
import { HeraldError } from '../errors.ts';
import type { Logger } from '../logger.ts';

/**
 * Yoga's error mask: a HeraldError keeps its message and gets `extensions.code`;
 * GraphQL's own errors (parse, validation) pass through; anything else is
 * logged and shown only as "Unexpected error.".
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
    if (graphqlError && !original) return graphqlError;
    if (original instanceof GraphQLError) return original;
    log.error({ err: original, path: graphqlError?.path }, 'unexpected error in a GraphQL operation');
    return new GraphQLError(message, {
      nodes: graphqlError?.nodes,
      path: graphqlError?.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
  };
}
