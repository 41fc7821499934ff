import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { ChangeFeed } from '../pubsub/changes.ts';
import { authenticate, type Authentication } from '../usecases/authenticate.ts';
import { checkVariableDepth } from './arguments.ts';
import type { Context } from './context.ts';
import { isClientMistake, maskError, requestErrorCodes } from './errors.ts';
import { schema } from './schema/index.ts';

export type Yoga = YogaServerInstance<Record<string, unknown>, Context>;

/** The GraphQL server: the schema, its limits, error masking and the context every operation gets. */
export function createGraphQL(config: Config, log: Logger, feed: ChangeFeed, publicOrigin: () => string): Yoga {
  return createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // Browsers on other origins get no CORS headers unless HERALD_CORS_ORIGINS names them.
    cors: (request) => {
      const from = request.headers.get('origin');
      return from && config.corsOrigins.includes(from) ? { origin: from, credentials: true, methods: ['GET', 'POST'] } : false;
    },
    healthCheckEndpoint: '/healthz',
    // GraphiQL is Herald's own page (server/dashboard.ts), which loads nothing from elsewhere.
    graphiql: false,
    logging: yogaLogger(log),
    maskedErrors: { maskError: maskError(log) },
    context: async ({ request, auth }: { request: Request; auth?: Authentication }) => ({
      auth: auth ?? (await authenticate(request.headers.get('authorization'), config.operatorKey)),
      config,
      feed,
      publicOrigin,
    }),
    plugins: [
      EnvelopArmorPlugin({
        maxDepth: { n: config.maxQueryDepth },
        maxTokens: { n: config.maxQueryTokens },
        maxAliases: { n: 30 },
        maxDirectives: { n: 50 },
        costLimit: { enabled: false },
        blockFieldSuggestion: { enabled: false },
      }),
      { onParams: ({ params }) => checkVariableDepth(params.variables) },
      requestErrorCodes(),
    ],
  });
}

/**
 * Yoga's log calls (a message, then values) as pino lines with a message. Yoga logs
 * at error level only what it did not expect; a request it refused is the client's
 * mistake, worth a debug line at most.
 */
function yogaLogger(log: Logger) {
  const line = (level: 'debug' | 'info' | 'warn' | 'error') => (...args: unknown[]) => {
    const [first, ...rest] = args;
    const message = typeof first === 'string' ? first : first instanceof Error ? first.message : 'graphql-yoga';
    const err = args.find((a): a is Error => a instanceof Error);
    const detail = rest.filter((a) => !(a instanceof Error));
    log[isClientMistake(err) ? 'debug' : level]({ ...(err ? { err } : {}), ...(detail.length ? { detail } : {}) }, message);
  };
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}
