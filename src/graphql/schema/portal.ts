import { createPortalSession, endPortalSession } from '../../usecases/portal.ts';
import { builder } from '../builder.ts';
import { RoleEnum } from './enums.ts';

const PortalSessionInput = builder.inputType('CreatePortalSessionInput', {
  fields: (t) => ({
    tenantId: t.id({ description: "The tenant (with the operator key); a tenant's ADMIN key makes sessions for its own tenant only." }),
    role: t.field({ type: RoleEnum, required: true, description: 'What the embedded dashboard may do (VIEWER: read only).' }),
    expiresInMinutes: t.int({ required: true, description: '1–1440: how long the session lasts once the link is made.' }),
    allowedOrigins: t.stringList({ required: true, description: 'The origins that may frame it (https://admin.vendor.example; http only on loopback); others cannot.' }),
    brandName: t.string({ description: "Shown in the portal's header instead of Herald." }),
    brandColor: t.string({ description: "The header's colour, #rrggbb." }),
  }),
});

const PortalLink = builder.simpleObject('PortalLink', {
  fields: (t) => ({
    id: t.id({ description: 'The session, to end it early (endPortalSession).' }),
    url: t.string({ description: 'Open it once, in the browser to sign in (an iframe on an allowed origin): it signs that browser in and cannot be used again.' }),
    expiresAt: t.field({ type: 'DateTime' }),
  }),
});

builder.mutationField('createPortalSession', (t) =>
  t.field({
    type: PortalLink,
    description: "A single-use link that signs a browser in to a tenant's dashboard with one role, for a while, without any API key being shown; it may be embedded (iframe) on the allowed origins only.",
    authScopes: { $any: { admin: true, operator: true } },
    args: { input: t.arg({ type: PortalSessionInput, required: true }) },
    resolve: (_root, { input }, ctx) => createPortalSession(ctx.auth.principal!, { ...input, tenantId: input.tenantId ? String(input.tenantId) : null }, ctx.publicOrigin()),
  }),
);

builder.mutationField('endPortalSession', (t) =>
  t.boolean({
    description: 'Ends a portal session now: its requests are refused and its live connections closed. Answers whether it was still going.',
    authScopes: { $any: { admin: true, operator: true } },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => endPortalSession(ctx.auth.principal!, String(id)),
  }),
);
