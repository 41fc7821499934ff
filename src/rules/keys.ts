import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const KEY_PREFIX = 'hk_';
/** What a portal session's secret starts with (src/usecases/portal.ts). */
export const PORTAL_PREFIX = 'hp_';

export interface NewKey {
  /** The secret itself: shown once, never stored. */
  key: string;
  /** What is stored: a SHA-256 of the key (keys carry 192 random bits, so no slow hash is needed). */
  hash: string;
  /** The start of the key, safe to show in lists. */
  prefix: string;
}

/** 24 random bytes (192 bits) as URL-safe text, after `prefix`: API keys, portal links and secrets. */
export function newSecret(prefix = ''): string {
  return prefix + randomBytes(24).toString('base64url');
}

export function generateApiKey(): NewKey {
  return describeKey(newSecret(KEY_PREFIX));
}

/** Describes a key chosen by the operator (HERALD_BOOTSTRAP_KEY). */
export function describeKey(key: string): NewKey {
  return { key, hash: hashKey(key), prefix: key.slice(0, KEY_PREFIX.length + 6) };
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** Extracts the token from an `Authorization: Bearer <key>` header value. */
export function bearerToken(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header.trim());
  return match?.[1];
}
