import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Secrets at rest, sealed with AES-256-GCM under HERALD_SECRET_KEY as `hsec1:<key id>:<base64>`: the first key seals, every key opens
 * (rotation: give `new,old`; start-up re-seals). A value without the prefix was stored before sealing and reads as it is.
 */
const PREFIX = 'hsec1';
const AAD = Buffer.from('herald secret v1');

interface Key {
  id: string;
  bytes: Buffer;
}

let keys: Key[] | undefined;

/** Parses HERALD_SECRET_KEY's value: one or two keys, each 32 bytes as base64 or hex. Throws a message naming what is wrong. */
export function parseKeys(value: string): Buffer[] {
  const list = value.split(',').map((k) => k.trim()).filter(Boolean);
  if (list.length < 1 || list.length > 2) throw new Error('expected one key, or two (new,old) while rotating');
  return list.map((k) => {
    if (/^[0-9a-f]{64}$/i.test(k)) return Buffer.from(k, 'hex');
    if (/^[A-Za-z0-9+/]{43}=$/.test(k)) return Buffer.from(k, 'base64');
    throw new Error('each key must be 32 random bytes, written as 64 hex digits or 44 base64 characters (openssl rand -base64 32)');
  });
}

/**
 * The keys to use: HERALD_SECRET_KEY's, else the data directory's own key file
 * (`secret.key`, created on first use with mode 600), which every process sharing
 * that directory shares.
 */
export function loadKeys(given: Buffer[] | undefined, dataDir: string): { keys: Buffer[]; file: string | null } {
  if (given?.length) return { keys: given, file: null };
  const file = path.join(dataDir, 'secret.key');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return { keys: parseKeys(readFileSync(file, 'utf8').trim()), file };
}

export function useKeys(list: Buffer[]): void {
  keys = list.map((bytes) => ({ id: createHash('sha256').update(bytes).digest('hex').slice(0, 8), bytes }));
}

function current(): Key[] {
  if (!keys) throw new Error('secret keys are not loaded yet');
  return keys;
}

/** The id of the key that seals: a sealed value under another key (or none) needs re-sealing. */
export const sealingKeyId = () => current()[0]!.id;

export function seal(plain: string): string {
  const key = current()[0]!;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.bytes, iv).setAAD(AAD);
  const sealed = Buffer.concat([iv, cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${PREFIX}:${key.id}:${sealed.toString('base64')}`;
}

export const isSealed = (value: string) => value.startsWith(`${PREFIX}:`);

export function open(value: string): string {
  if (!isSealed(value)) return value;
  const [, id, data] = value.split(':');
  const key = current().find((k) => k.id === id);
  if (!key) throw new Error(`a secret is sealed with key ${id}, which is not among HERALD_SECRET_KEY's keys (${current().map((k) => k.id).join(', ')})`);
  const bytes = Buffer.from(data!, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key.bytes, bytes.subarray(0, 12)).setAAD(AAD);
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  return Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]).toString('utf8');
}

export const openOrNull = (value: string | null) => (value === null ? null : open(value));
export const sealOrNull = (value: string | null) => (value === null ? null : seal(value));

interface Header {
  name: string;
  value: string;
  secret: boolean;
}

/** A webhook's headers as stored: secret values sealed, the others as they are. */
export const sealHeaders = <H extends Header>(headers: H[]): H[] => headers.map((h) => (h.secret && !isSealed(h.value) ? { ...h, value: seal(h.value) } : h));
export const openHeaders = <H extends Header>(headers: H[]): H[] => headers.map((h) => (h.secret ? { ...h, value: open(h.value) } : h));
