import { GraphQLError } from 'graphql';
import { createInbox, deleteInbox, updateInbox, findInbox, INBOX_LIMITS } from '../../usecases/inboxes.ts';
import { inboxAs, inboxPage, inboxRequestsById, requestPage } from '../../store/inboxes.ts';
import type { InboxRequest } from '../../generated/prisma/client.ts';
import { builder, READERS } from '../builder.ts';
import { keyset } from '../pages.ts';
import { tenantOf } from '../context.ts';
import { changes, loader, type Loaded } from './subscriptions.ts';

const inboxRequests = loader(inboxRequestsById);

const InboxRequestRef = builder.prismaObject('InboxRequest', {
  ...READERS,
  description: 'A request an inbox captured.',
  fields: (t) => ({
    id: t.exposeID('id'),
    receivedAt: t.expose('receivedAt', { type: 'DateTime' }),
    method: t.exposeString('method'),
    path: t.exposeString('path'),
    headers: t.expose('headers', { type: 'JSON' }),
    body: t.exposeString('body'),
    bodyTruncated: t.exposeBoolean('bodyTruncated'),
    signatureValid: t.exposeBoolean('signatureValid', { nullable: true, description: "Checked against the inbox's webhook secret; null without one." }),
    signatureMessage: t.exposeString('signatureMessage', { nullable: true }),
  }),
});

export const InboxRef = builder.prismaObject('Inbox', {
  ...READERS,
  description: `A request inspector: every request to its URL is captured (the latest ${INBOX_LIMITS.requestsKept}, bodies up to ${INBOX_LIMITS.bodyBytes} bytes) until it expires.`,
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    url: t.string({ description: 'Use it as a webhook endpoint: Herald may deliver to it without opening HERALD_OUTBOUND_ALLOW.', resolve: (inbox, _args, ctx) => `${ctx.publicOrigin()}/inbox/${inbox.token}` }),
    webhookId: t.exposeID('webhookId', { nullable: true }),
    respondWith: t.exposeInt('respondWith'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    requests: t.prismaConnection({
      type: 'InboxRequest',
      cursor: 'id',
      description: `The latest ${INBOX_LIMITS.requestsKept}, newest first (captures in a burst may briefly store a few more; they are trimmed by the next).`,
      resolve: async (query, inbox) => {
        return requestPage(inbox.id, INBOX_LIMITS.requestsKept, (where) => keyset(query, 'desc', where));
      },
    }),
  }),
});

const InboxInput = builder.inputType('CreateInboxInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    webhookId: t.id({ description: "Check captured requests' signatures against this webhook's secret." }),
    expiresInHours: t.int({ description: `1–${INBOX_LIMITS.maxHours}, default ${INBOX_LIMITS.defaultHours}.` }),
    respondWith: t.int({ description: 'The status code it answers with (default 200), to try failures and retries.' }),
  }),
});

const UpdateInboxInput = builder.inputType('UpdateInboxInput', {
  fields: (t) => ({
    name: t.string(),
    webhookId: t.id({ description: "Check captured requests' signatures against this webhook's secret; null stops checking." }),
    expiresInHours: t.int({ description: `1–${INBOX_LIMITS.maxHours} from now.` }),
    respondWith: t.int({ description: 'The status code it answers with.' }),
  }),
});

builder.queryField('inboxes', (t) =>
  t.prismaConnection({
    type: 'Inbox',
    cursor: 'id',
    authScopes: { read: true },
    resolve: (query, _root, _args, ctx) => inboxPage(keyset(query, 'desc', { tenantId: tenantOf(ctx), expiresAt: { gt: new Date() } })),
  }),
);

builder.queryField('inbox', (t) =>
  t.prismaField({
    type: 'Inbox',
    authScopes: { read: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => {
      await findInbox(tenantOf(ctx), String(id));
      return inboxAs(query, String(id));
    },
  }),
);

builder.mutationField('createInbox', (t) =>
  t.prismaField({
    type: 'Inbox',
    authScopes: { manage: true },
    args: { input: t.arg({ type: InboxInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const inbox = await createInbox(tenantOf(ctx), { ...input, webhookId: input.webhookId ? String(input.webhookId) : null });
      return inboxAs(query, inbox.id);
    },
  }),
);

builder.mutationField('updateInbox', (t) =>
  t.prismaField({
    type: 'Inbox',
    authScopes: { manage: true },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateInboxInput, required: true }) },
    resolve: async (query, _root, { id, input }, ctx) => {
      const webhookId = input.webhookId === undefined ? undefined : input.webhookId === null ? null : String(input.webhookId);
      const inbox = await updateInbox(tenantOf(ctx), String(id), { ...input, name: input.name ?? undefined, webhookId });
      return inboxAs(query, inbox.id);
    },
  }),
);

builder.mutationField('deleteInbox', (t) =>
  t.id({
    authScopes: { manage: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => (await deleteInbox(tenantOf(ctx), String(id))).id,
  }),
);

builder.subscriptionField('inboxRequestReceived', (t) =>
  t.field({
    type: InboxRequestRef,
    description: 'Requests as an inbox captures them.',
    authScopes: { read: true },
    args: { inboxId: t.arg.id({ required: true }) },
    subscribe: async (_root, { inboxId }, ctx) => {
      const tenantId = tenantOf(ctx);
      await findInbox(tenantId, String(inboxId));
      return changes(ctx, 'inbox', (c) => c.inbox === String(inboxId), (c) => inboxRequests(c.id));
    },
    resolve: ({ row }: Loaded<unknown, InboxRequest>) => {
      if (!row) throw new GraphQLError('it no longer exists', { extensions: { code: 'NOT_FOUND' } });
      return row;
    },
  }),
);
