import { GraphQLError } from 'graphql';
import { Repeater } from 'graphql-yoga';
import type { Event, Instance, Webhook } from '../../generated/prisma/client.ts';
import { findWebhook } from '../../usecases/webhooks.ts';
import { eventsById } from '../../store/events.ts';
import { instancesById } from '../../store/instances.ts';
import { webhooksById } from '../../store/webhooks.ts';
import type { Change } from '../../pubsub/changes.ts';
import { builder } from '../builder.ts';
import { fellBehind } from '../sharedSubscriptions.ts';
import { tenantOf, type Context } from '../context.ts';
import { InstanceRef, StatusEnum } from './deliveries.ts';
import { EventRef } from './events.ts';
import { WebhookRef } from './webhooks.ts';

/**
 * The caller's tenant's changes that `accept` wants, from every process, each loaded with its row (rows of changes arriving together
 * in one query); ends when the key is revoked, or with an error for a subscriber too far behind, which then catches up by query.
 */
export function changes<K extends Change['k'], R>(ctx: Context, kind: K, accept: (change: Extract<Change, { k: K }>) => boolean, load: (change: Extract<Change, { k: K }>) => Promise<R | undefined>) {
  const tenantId = tenantOf(ctx);
  const keyId = ctx.auth.principal?.kind === 'key' ? ctx.auth.principal.keyId : undefined;
  return new Repeater<Loaded<Extract<Change, { k: K }>, R>>(async (push, stop) => {
    const onChange = (change: Change) => {
      if (change.t !== tenantId) return;
      if (change.k === 'key' && change.id === keyId) return stop();
      if (change.k !== kind || !accept(change as Extract<Change, { k: K }>)) return;
      const wanted = change as Extract<Change, { k: K }>;
      try {
        void push(load(wanted).then((row) => ({ change: wanted, row }), () => ({ change: wanted, row: undefined })));
      } catch {
        stop(fellBehind());
      }
    };
    ctx.feed.on('change', onChange);
    await stop;
    ctx.feed.off('change', onChange);
  });
}

export interface Loaded<C, R> {
  change: C;
  /** Undefined when it is gone (or not the tenant's). */
  row: R | undefined;
}

/** Loads rows by id, the ids asked for in one turn of the event loop in one query. */
export function loader<R extends { id: string }>(fetch: (ids: string[]) => Promise<R[]>): (id: string) => Promise<R | undefined> {
  let waiting: Map<string, Array<(row: R | undefined) => void>> | undefined;
  const flush = async (batch: Map<string, Array<(row: R | undefined) => void>>) => {
    const rows = new Map((await fetch([...batch.keys()]).catch(() => [] as R[])).map((r) => [r.id, r]));
    for (const [id, resolvers] of batch) for (const resolve of resolvers) resolve(rows.get(id));
  };
  return (id) =>
    new Promise((resolve) => {
      if (!waiting) {
        const batch = (waiting = new Map());
        setImmediate(() => {
          waiting = undefined;
          void flush(batch);
        });
      }
      waiting.set(id, [...(waiting.get(id) ?? []), resolve]);
    });
}

const instances = loader(instancesById);
const webhooks = loader(webhooksById);
const events = loader(eventsById);

/** The row of a change, checked to be the change's tenant's. */
function rowOf<R extends { tenantId: string }>({ change, row }: Loaded<{ t: string }, R>): R {
  if (!row || row.tenantId !== change.t) throw new GraphQLError('it no longer exists', { extensions: { code: 'NOT_FOUND' } });
  return row;
}

builder.subscriptionField('instanceUpdated', (t) =>
  t.field({
    type: InstanceRef,
    description: "Every status change of the tenant's deliveries (of one webhook, and only some statuses, if given), from any process.",
    authScopes: { read: true },
    args: { webhookId: t.arg.id(), statuses: t.arg({ type: [StatusEnum] }) },
    subscribe: async (_root, { webhookId, statuses }, ctx) => {
      if (webhookId) await findWebhook(tenantOf(ctx), String(webhookId));
      return changes(ctx, 'instance', (c) => (!webhookId || c.w === String(webhookId)) && (!statuses?.length || statuses.includes(c.s as never)), (c) => instances(c.id));
    },
    resolve: (loaded: Loaded<Extract<Change, { k: 'instance' }>, Instance>) => {
      const { change } = loaded;
      const instance = rowOf(loaded);
      // The status (and next attempt) this change was about, even if the instance has moved on since.
      return { ...instance, status: change.s as typeof instance.status, nextAttemptAt: change.n ? new Date(change.n) : change.s === 'RETRYING' ? instance.nextAttemptAt : null };
    },
  }),
);

builder.subscriptionField('webhookUpdated', (t) =>
  t.field({
    type: WebhookRef,
    description: 'A webhook changed: edited, activated, deactivated (also automatically, with the reason) or deleted.',
    authScopes: { read: true },
    args: { id: t.arg.id() },
    subscribe: async (_root, { id }, ctx) => {
      if (id) await findWebhook(tenantOf(ctx), String(id));
      return changes(ctx, 'webhook', (c) => !id || c.id === String(id), (c) => webhooks(c.id));
    },
    resolve: (loaded: Loaded<Extract<Change, { k: 'webhook' }>, Webhook>) => rowOf(loaded),
  }),
);

builder.subscriptionField('eventPublished', (t) =>
  t.field({
    type: EventRef,
    description: 'Events as they are published (of some topics, if given).',
    authScopes: { read: true },
    args: { topics: t.arg.stringList() },
    subscribe: (_root, { topics }, ctx) => changes(ctx, 'event', (c) => !topics?.length || topics.includes(c.topic), (c) => events(c.id)),
    resolve: (loaded: Loaded<Extract<Change, { k: 'event' }>, Event>) => rowOf(loaded),
  }),
);
