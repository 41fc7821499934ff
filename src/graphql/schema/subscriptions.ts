import { Repeater } from 'graphql-yoga';
import { db } from '../../db/client.ts';
import { findWebhook } from '../../domain/webhooks.ts';
import type { Change } from '../../pubsub/changes.ts';
import { builder } from '../builder.ts';
import { tenantOf, type Context } from '../context.ts';
import { EventRef, InstanceRef, StatusEnum } from './deliveries.ts';
import { WebhookRef } from './webhooks.ts';

/**
 * The caller's tenant's changes that `accept` wants, from every process. A
 * subscription ends when its key is revoked.
 */
export function changes<K extends Change['k']>(ctx: Context, kind: K, accept: (change: Extract<Change, { k: K }>) => boolean) {
  const tenantId = tenantOf(ctx);
  const keyId = ctx.auth.principal?.kind === 'key' ? ctx.auth.principal.keyId : undefined;
  return new Repeater<Extract<Change, { k: K }>>(async (push, stop) => {
    const onChange = (change: Change) => {
      if (change.t !== tenantId) return;
      if (change.k === 'key' && change.id === keyId) return stop();
      if (change.k === kind && accept(change as Extract<Change, { k: K }>)) void push(change as Extract<Change, { k: K }>);
    };
    ctx.feed.on('change', onChange);
    await stop;
    ctx.feed.off('change', onChange);
  });
}

builder.subscriptionField('instanceUpdated', (t) =>
  t.field({
    type: InstanceRef,
    description: "Every status change of the tenant's deliveries (of one webhook, and only some statuses, if given), from any process.",
    authScopes: { read: true },
    args: { webhookId: t.arg.id(), statuses: t.arg({ type: [StatusEnum] }) },
    subscribe: async (_root, { webhookId, statuses }, ctx) => {
      if (webhookId) await findWebhook(tenantOf(ctx), String(webhookId));
      return changes(ctx, 'instance', (c) => (!webhookId || c.w === String(webhookId)) && (!statuses?.length || statuses.includes(c.s as never)));
    },
    resolve: async (change: Extract<Change, { k: 'instance' }>) => {
      const instance = await db().instance.findFirstOrThrow({ where: { id: change.id, tenantId: change.t } });
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
      return changes(ctx, 'webhook', (c) => !id || c.id === String(id));
    },
    resolve: (change: Extract<Change, { k: 'webhook' }>) => db().webhook.findFirstOrThrow({ where: { id: change.id, tenantId: change.t } }),
  }),
);

builder.subscriptionField('eventPublished', (t) =>
  t.field({
    type: EventRef,
    description: 'Events as they are published (of some topics, if given).',
    authScopes: { read: true },
    args: { topics: t.arg.stringList() },
    subscribe: (_root, { topics }, ctx) => changes(ctx, 'event', (c) => !topics?.length || topics.includes(c.topic)),
    resolve: (change: Extract<Change, { k: 'event' }>) => db().event.findFirstOrThrow({ where: { id: change.id, tenantId: change.t } }),
  }),
);
