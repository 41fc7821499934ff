import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { beforeAll, describe, expect, it } from 'vitest';
import { open, parseKeys, seal, useKeys } from '../src/crypto/secrets.ts';
import { startTestApp, type TestApp } from './support/app.ts';
import { runSql } from './support/database.ts';
import { eventually, Receiver } from './support/receiver.ts';

const key = () => randomBytes(32);

describe('sealing, as plain functions', () => {
  it('opens what it sealed, with the key that sealed it among those given', () => {
    const [a, b] = [key(), key()];
    useKeys([a]);
    const sealed = seal('whsec_plain');
    expect(sealed).toMatch(/^hsec1:[0-9a-f]{8}:[A-Za-z0-9+/=]+$/);
    expect(sealed).not.toContain('plain');
    expect(open(sealed)).toBe('whsec_plain');
    useKeys([b, a]);
    expect(open(sealed)).toBe('whsec_plain');
    useKeys([b]);
    expect(() => open(sealed)).toThrow(/sealed with key [0-9a-f]{8}, which is not among HERALD_SECRET_KEY's keys/);
    expect(open('whsec_stored_before_sealing')).toBe('whsec_stored_before_sealing');
  });

  it('takes keys as 64 hex digits or 44 base64 characters, one or two', () => {
    expect(parseKeys(`${'ab'.repeat(32)},${key().toString('base64')}`)).toHaveLength(2);
    expect(() => parseKeys('short')).toThrow(/32 random bytes/);
    expect(() => parseKeys(`${key().toString('hex')},${key().toString('hex')},${key().toString('hex')}`)).toThrow(/one key, or two/);
  });
});

describe('secrets at rest', () => {
  let t: TestApp;
  let receiver: Receiver;
  const sql = (text: string, values: unknown[] = []) => runSql(t.databaseUrl, text, values);
  beforeAll(async () => {
    t = await startTestApp({ HERALD_OUTBOUND_ALLOW: '127.0.0.0/8' });
    await t.ok('mutation { createTopic(input: { key: "user", name: "User" }) { key } }');
    receiver = await Receiver.start();
  });

  it('signing secrets (current and previous) and secret header values are never in the database in plain text, and deliveries are signed as before', async () => {
    const { secret, webhook } = (await t.ok('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { id secretHint } } }', {
      input: { label: 'sealed', events: ['user.created'], url: receiver.url, active: true, headers: [{ name: 'Authorization', value: 'Bearer receiver-credential' }, { name: 'X-Plain', value: 'visible' }] },
    })).createWebhook;
    expect(webhook.secretHint).toBe(`…${secret.slice(-4)}`);
    const rotated = (await t.ok('mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }', { id: webhook.id })).rotateWebhookSecret.secret;
    const [row] = await sql('SELECT secret, previous_secret, headers::text AS headers FROM webhook WHERE id = $1', [webhook.id]);
    const everything = JSON.stringify(await sql('SELECT * FROM webhook'));
    for (const plain of [secret, rotated, secret.slice(6), rotated.slice(6), 'receiver-credential']) expect(everything).not.toContain(plain);
    expect(row.secret).toMatch(/^hsec1:/);
    expect(row.previous_secret).toMatch(/^hsec1:/);
    expect(row.headers).toContain('visible');
    await t.ok('mutation { publishEvent(input: { event: { topic: "user", action: "created", entityId: "1", data: {} } }) { event { id } } }');
    await receiver.waitFor(1);
    const got = receiver.received[0]!;
    expect(got.headers.authorization).toBe('Bearer receiver-credential');
    expect(() => new StandardWebhook(rotated).verify(got.body, got.headers as Record<string, string>)).not.toThrow();
    expect(() => new StandardWebhook(secret).verify(got.body, got.headers as Record<string, string>)).not.toThrow();
  });

  it('npm run secrets:reseal seals rows stored in plain text and moves every secret to the new key; deliveries go on under it', async () => {
    const { secret, webhook } = (await t.ok('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { id } } }', {
      input: { label: 'legacy', events: ['user.updated'], url: receiver.url, active: true, headers: [{ name: 'X-Token', value: 'legacy-token', secret: true }] },
    })).createWebhook;
    // As stored before sealing existed.
    await sql(`UPDATE webhook SET secret = $2, headers = $3::jsonb WHERE id = $1`, [webhook.id, secret, JSON.stringify([{ name: 'X-Token', value: 'legacy-token', secret: true }])]);
    const old = readFileSync(path.resolve('.data', 'secret.key'), 'utf8').trim();
    const fresh = key().toString('base64');
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/reseal-secrets.ts'], { env: { ...process.env, DATABASE_URL: t.databaseUrl, HERALD_SECRET_KEY: `${fresh},${old}` }, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout).resealed).toBeGreaterThanOrEqual(2);
    const freshId = (await sql(`SELECT split_part(secret, ':', 2) AS kid FROM webhook WHERE id = $1`, [webhook.id]))[0].kid;
    expect(await sql(`SELECT count(*)::int AS n FROM webhook WHERE split_part(secret, ':', 2) <> $1`, [freshId])).toEqual([{ n: 0 }]);
    expect(JSON.stringify(await sql('SELECT * FROM webhook'))).not.toContain('legacy-token');
    // This process now holds only the new key: what it sends is still signed with the same secret.
    useKeys([Buffer.from(fresh, 'base64')]);
    await t.ok('mutation { publishEvent(input: { event: { topic: "user", action: "updated", entityId: "2", data: {} } }) { event { id } } }');
    const got = await eventually(async () => receiver.received.find((r) => r.headers['x-token']));
    expect(got.headers['x-token']).toBe('legacy-token');
    expect(() => new StandardWebhook(secret).verify(got.body, got.headers as Record<string, string>)).not.toThrow();
  });
});
