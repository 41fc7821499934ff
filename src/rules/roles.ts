import type { Role } from '../generated/prisma/enums.ts';

export type { Role };

/** What a caller may do. Every GraphQL field names the permission it needs. */
export const PERMISSIONS = ['read', 'manage', 'publish', 'operate', 'admin'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** PRODUCT.md: ADMIN everything; DEVELOPER manages webhooks and topics, publishes and replays; PUBLISHER publishes only; VIEWER reads. */
const GRANTS: Record<Role, readonly Permission[]> = {
  ADMIN: ['read', 'manage', 'publish', 'operate', 'admin'],
  DEVELOPER: ['read', 'manage', 'publish', 'operate'],
  PUBLISHER: ['publish'],
  VIEWER: ['read'],
};

export function can(role: Role, permission: Permission): boolean {
  return GRANTS[role].includes(permission);
}

export function rolesWith(permission: Permission): Role[] {
  return (Object.keys(GRANTS) as Role[]).filter((role) => can(role, permission));
}

/** What a role may do, in PERMISSIONS' order. */
export function permissionsOf(role: Role): Permission[] {
  return PERMISSIONS.filter((p) => can(role, p));
}
