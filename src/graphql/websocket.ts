import type { Server } from 'node:http';
import { createHash } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Config } from '../config.ts';
import type { ChangeFeed } from '../pubsub/changes.ts';
import { authenticate, type Authentication } from '../usecases/authenticate.ts';
import { checkVariableDepth } from './arguments.ts';
import { requestError } from './errors.ts';
import { SharedSubscriptions } from './sharedSubscriptions.ts';
import { WriteCoalescer } from './socketWrites.ts';
import type { Yoga } from './yoga.ts';

/**
 * A WebSocket's largest frame; how soon it must authenticate (graphql-ws closes it with
 * 4408 after); the window in which frames to one socket are written together, and how
 * much may wait for a socket before its subscriptions wait too (socketWrites.ts).
 */
/** Why a portal session's sockets close, when it ends on time or is ended early. */
const PORTAL_ENDED = 'Forbidden: the portal session has ended';

export const WEBSOCKET_LIMITS = { frameBytes: 1024 * 1024, authenticateWithinMs: 3000, writeWindowMs: 25, highWaterBytes: 256 * 1024 };

/**
 * graphql-ws on the HTTP server's GraphQL path, through yoga's envelope (its plugins,
 * context and limits). A connection authenticates in its first message; a revoked key's
 * open connections end at once, whichever process revoked it; a portal session's when it ends.
 */
export function serveWebSockets(server: Server, yoga: Yoga, config: Config, feed: ChangeFeed): WebSockets {
  // A frame over the limit closes the socket (1009) before it is buffered whole.
  const wsServer = new WebSocketServer({ server, path: yoga.graphqlEndpoint, maxPayload: WEBSOCKET_LIMITS.frameBytes });
  const byKey = new Map<string, Set<WebSocket>>();
  feed.on('change', (change) => {
    if (change.k !== 'key') return;
    const why = change.id.startsWith('portal:') ? PORTAL_ENDED : 'Forbidden: the API key was revoked';
    for (const socket of byKey.get(change.id) ?? []) socket.close(4403, why);
  });
  const shared = new SharedSubscriptions();
  // Before graphql-ws's own listener, so that every frame it sends goes through the window.
  const writes = new WriteCoalescer(WEBSOCKET_LIMITS.writeWindowMs, WEBSOCKET_LIMITS.highWaterBytes);
  wsServer.on('connection', (ws, request) => writes.adopt(ws, request.socket));
  wsServer.on('close', () => writes.close());
  useServer<Record<string, unknown>, { auth?: Authentication }>(
    {
      connectionInitWaitTimeout: WEBSOCKET_LIMITS.authenticateWithinMs,
      execute: (args: any) => args.rootValue.execute(args),
      subscribe: (args: any) => shared.subscribe(args.rootValue.shareKey, args.rootValue.subscriber, () => args.rootValue.subscribe(args)),
      onConnect: async (ctx) => {
        // `{ authorization }` (documented); also `Authorization` and `{ headers: { … } }`, which some clients (GraphiQL's) send.
        const params = (ctx.connectionParams ?? {}) as Record<string, any>;
        const header = params.authorization ?? params.Authorization ?? params.headers?.authorization ?? params.headers?.Authorization;
        const auth = await authenticate(typeof header === 'string' ? header : undefined, config.operatorKey);
        if (!auth.principal) {
          ctx.extra.socket.close(4401, `Unauthorized: ${auth.problem}`);
          return false;
        }
        ctx.extra.auth = auth;
        if (auth.principal.kind === 'key') {
          const keyId = auth.principal.keyId;
          const sockets = byKey.get(keyId) ?? new Set();
          sockets.add(ctx.extra.socket);
          byKey.set(keyId, sockets);
          // A portal session's connection ends with the session.
          const ends = auth.principal.portal && setTimeout(() => ctx.extra.socket.close(4403, PORTAL_ENDED), auth.principal.portal.expiresAt.getTime() - Date.now());
          ctx.extra.socket.once('close', () => {
            clearTimeout(ends);
            sockets.delete(ctx.extra.socket);
            if (sockets.size === 0) byKey.delete(keyId);
          });
        }
        return true;
      },
      onSubscribe: async (ctx, id, params) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
        });
        // A bad operation is answered on its own id; thrown, it would close the socket and every subscription on it.
        let document;
        try {
          checkVariableDepth(params.variables);
          document = parse(params.query);
        } catch (error) {
          if (error instanceof GraphQLError) return [socketError(error)];
          throw error;
        }
        const errors = validate(schema, document);
        if (errors.length) return errors.map(socketError);
        return {
          schema,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue: await contextFactory({ auth: ctx.extra.auth } as never),
          // Who asks and what: subscribers alike share one execution (the hash keeps no key text in memory); and where its results go.
          rootValue: { execute, subscribe, shareKey: shareKey(ctx.extra.auth, ctx.connectionParams, params), subscriber: { id, outlet: writes.outlet(ctx.extra.socket) } },
        };
      },
    },
    wsServer,
  );
  return { server: wsServer, subscriptions: () => shared.subscribers };
}

export interface WebSockets {
  server: WebSocketServer;
  /** Subscriptions being fed on this process's sockets. */
  subscriptions(): number;
}

function shareKey(auth: Authentication | undefined, connectionParams: unknown, params: { query: string; operationName?: string | null; variables?: unknown }): string {
  const asked = [auth?.principal ?? null, connectionParams ?? null, params.query, params.operationName ?? null, params.variables ?? null];
  return createHash('sha256').update(JSON.stringify(asked)).digest('base64url');
}

/** A request error as a WebSocket client gets it: coded, without the HTTP status meant for yoga. */
function socketError(error: GraphQLError): GraphQLError {
  const coded = requestError(error);
  const { http: _http, ...extensions } = coded.extensions;
  return new GraphQLError(coded.message, { nodes: coded.nodes, extensions });
}
