import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Destination, Target } from '../../src/destinations/index.ts';
import { AddressGuard } from '../../src/rules/addresses.ts';
import { ERROR_KINDS } from '../../src/rules/outcome.ts';
import type { RenderedPayload } from '../../src/rules/payload.ts';
import { generateSecret, verifySignature } from '../../src/rules/signing.ts';

/** How the shared suite drives one destination type against its real receiver on loopback. */
export interface DestinationHarness {
  /** The destination under test, behind `guard`. */
  open(guard: AddressGuard): Destination;
  /** A real receiver of this type, started for the test. */
  receiver(): Promise<HarnessReceiver>;
  /** A payload addressed where nothing listens. */
  nowhere(body: string): Promise<RenderedPayload>;
}

export interface HarnessReceiver {
  /** A payload addressed to this receiver. */
  payload(body: string): RenderedPayload;
  /** From now on: take messages, refuse them for now (a failure worth trying again), or never answer. */
  answer(how: 'accept' | 'refuse' | 'hang'): void;
  /** The messages taken so far: their headers (names in lower case) and body. */
  received(): Array<{ headers: Record<string, string>; body: string }>;
  close(): Promise<void>;
}

const LOOPBACK = new AddressGuard(['127.0.0.0/8']);

/**
 * The conformance suite every destination type passes (docs/architecture.md, "Destinations"): what it sends is signed
 * (Standard Webhooks) and verifiable, what comes back is read into the shared outcome kinds, the address guard judges
 * where it goes, and what is kept or shown of a message hides secret values.
 */
export function conformance(type: string, harness: DestinationHarness): void {
  describe(`the ${type} destination (the shared conformance suite)`, () => {
    let destination: Destination;
    let receiver: HarnessReceiver;
    const secret = generateSecret();
    const target = (extra: Partial<Target> = {}): Target => ({
      headers: [{ name: 'X-Tenant', value: 'acme', secret: false }, { name: 'Authorization', value: 'Bearer s3cret', secret: true }],
      secret,
      previousSecret: null,
      previousSecretUntil: null,
      timeoutMs: 2000,
      finalStatusCodes: [],
      ...extra,
    });
    const send = async (payload: RenderedPayload, settings = target(), to = destination) => to.send(to.prepare(payload, settings, `msg_${Math.random()}`, new Date()), settings);

    beforeAll(async () => {
      destination = harness.open(LOOPBACK);
      receiver = await harness.receiver();
    });
    afterAll(async () => {
      await receiver.close();
      destination.close();
    });

    it('delivers a message the receiver verifies with the secret, with the webhook’s own headers', async () => {
      receiver.answer('accept');
      const outcome = await send(receiver.payload('{"n":1}'));
      expect(outcome).toMatchObject({ ok: true, errorKind: null, asks: { down: false, gone: false, final: false } });
      const got = receiver.received().at(-1)!;
      expect(got.body).toBe('{"n":1}');
      expect(got.headers['x-tenant']).toBe('acme');
      expect(verifySignature([secret], { id: got.headers['webhook-id'], timestamp: got.headers['webhook-timestamp'], signature: got.headers['webhook-signature'] }, got.body)).toMatchObject({ valid: true });
    });

    it('signs with both secrets while a rotated one is still valid', async () => {
      receiver.answer('accept');
      const previous = generateSecret();
      await send(receiver.payload('{"n":2}'), target({ previousSecret: previous, previousSecretUntil: new Date(Date.now() + 60_000) }));
      const got = receiver.received().at(-1)!;
      const headers = { id: got.headers['webhook-id'], timestamp: got.headers['webhook-timestamp'], signature: got.headers['webhook-signature'] };
      expect(verifySignature([previous], headers, got.body).valid).toBe(true);
      expect(verifySignature([secret], headers, got.body).valid).toBe(true);
    });

    it('reads a refusal as a typed failure that says the receiver cannot take it now', async () => {
      receiver.answer('refuse');
      const outcome = await send(receiver.payload('{"n":3}'));
      expect(outcome.ok).toBe(false);
      expect(ERROR_KINDS).toContain(outcome.errorKind);
      expect(outcome.asks.down).toBe(true);
    });

    it('reads nothing listening as CONNECTION_REFUSED, the receiver down', async () => {
      const outcome = await send(await harness.nowhere('{"n":4}'));
      expect(outcome).toMatchObject({ ok: false, errorKind: 'CONNECTION_REFUSED', asks: { down: true } });
    });

    it('gives up at the webhook’s timeout: TIMEOUT, the receiver down', async () => {
      receiver.answer('hang');
      const outcome = await send(receiver.payload('{"n":5}'), target({ timeoutMs: 300 }));
      expect(outcome).toMatchObject({ ok: false, errorKind: 'TIMEOUT', asks: { down: true } });
      expect(outcome.durationMs).toBeGreaterThanOrEqual(250);
    });

    it('sends nothing where the address guard refuses: BLOCKED', async () => {
      receiver.answer('accept');
      const guarded = harness.open(new AddressGuard([]));
      const before = receiver.received().length;
      const outcome = await send(receiver.payload('{"n":6}'), target(), guarded);
      guarded.close();
      expect(outcome).toMatchObject({ ok: false, errorKind: 'BLOCKED', asks: { down: false } });
      expect(receiver.received().length).toBe(before);
    });

    it('keeps and shows a message with secret header values hidden', () => {
      const prepared = destination.prepare(receiver.payload('{"n":7}'), target(), 'msg_kept', new Date());
      expect(JSON.stringify(prepared.stored)).not.toContain('s3cret');
      expect(prepared.shown.headers).toContainEqual({ name: 'authorization', value: '[secret]' });
      expect(prepared.shown.body).toBe('{"n":7}');
      expect(destination.shown(prepared.stored, receiver.payload('{"n":7}'), 'msg_kept')).toMatchObject({ headers: prepared.shown.headers });
    });
  });
}
