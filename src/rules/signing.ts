import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): the secret is
 * `whsec_<base64>`, the signature `v1,<base64 HMAC-SHA256>` over `id.timestamp.body`.
 */
export const SECRET_PREFIX = 'whsec_';

export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(24).toString('base64');
}

export function secretHint(secret: string): string {
  return `…${secret.slice(-4)}`;
}

export function sign(secret: string, messageId: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
  const mac = createHmac('sha256', key).update(`${messageId}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** The signature header: one signature per secret (two while a rotated-out secret is still honoured). */
export function signatureHeader(secrets: string[], messageId: string, timestampSeconds: number, body: string): string {
  return secrets.map((secret) => sign(secret, messageId, timestampSeconds, body)).join(' ');
}

/** Checks Standard Webhooks headers against any of the secrets; tolerates 5 minutes of clock skew. */
export function verifySignature(
  secrets: string[],
  headers: { id?: string; timestamp?: string; signature?: string },
  body: string,
  now = new Date(),
): { valid: boolean; message: string } {
  if (!headers.id || !headers.timestamp || !headers.signature) {
    return { valid: false, message: 'missing webhook-id, webhook-timestamp or webhook-signature header' };
  }
  const timestamp = Number(headers.timestamp);
  if (!Number.isInteger(timestamp) || Math.abs(now.getTime() / 1000 - timestamp) > 300) {
    return { valid: false, message: 'webhook-timestamp is more than 5 minutes away from now' };
  }
  const given = headers.signature.split(' ').filter((s) => s.startsWith('v1,'));
  const match = secrets.some((secret) => {
    const expected = Buffer.from(sign(secret, headers.id!, timestamp, body));
    return given.some((g) => Buffer.byteLength(g) === expected.length && timingSafeEqual(Buffer.from(g), expected));
  });
  return match ? { valid: true, message: 'signature verified' } : { valid: false, message: 'no signature matches the webhook secret' };
}
