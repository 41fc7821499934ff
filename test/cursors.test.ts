import { beforeAll, describe, expect, it } from 'vitest';
import { errorOf, OPERATOR_KEY, startTestApp, type TestApp } from './support/app.ts';

const CREATE = 'mutation($label: String!) { createWebhook(input: { label: $label, events: ["user.created"], url: "https://x.example/" }) { webhook { id } } }';
const PAGE = 'query($after: String) { webhooks(first: 10, after: $after) { edges { cursor node { id label } } } }';
/** A cursor as Herald writes them, for any id. */
const cursorFor = (id: string) => Buffer.from(`GPC:S:${id}`).toString('base64');

describe("a cursor naming another tenant's record", () => {
  let t: TestApp;
  let other: string;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    t = await startTestApp();
    other = (await t.ok('mutation { createTenant(input: { name: "Other", environment: SANDBOX }) { key } }', {}, OPERATOR_KEY)).createTenant.key;
    for (const key of [null, other]) await t.ok('mutation { createTopic(input: { key: "user", name: "User" }) { key } }', {}, key ?? undefined);
    const create = async (label: string, key?: string) => (ids[label] = (await t.ok(CREATE, { label }, key)).createWebhook.webhook.id);
    await create('a1');
    await create('a2');
    await create('b1', other);
    await create('a3');
  });
  const labelsAfter = async (after: string) => (await t.ok(PAGE, { after })).webhooks.edges.map((e: any) => e.node.label);

  it('behaves exactly like a cursor naming no record: the page is bounded by its value alone', async () => {
    const theirs = (await t.ok(PAGE, {}, other)).webhooks.edges[0].cursor;
    const b1 = ids.b1!;
    const nobody = `${b1.slice(0, -1)}${b1.endsWith('0') ? '1' : '0'}`;
    expect(await labelsAfter(theirs)).toEqual(['a2', 'a1']);
    expect(await labelsAfter(cursorFor(nobody))).toEqual(['a2', 'a1']);
    // And a tenant's own cursors page as before.
    const mine = (await t.ok(PAGE, {})).webhooks.edges;
    expect(mine.map((e: any) => e.node.label)).toEqual(['a3', 'a2', 'a1']);
    expect(await labelsAfter(mine[0].cursor)).toEqual(['a2', 'a1']);
  });

  it('a cursor that is not one of Herald\'s is BAD_USER_INPUT naming after', async () => {
    for (const after of [cursorFor('not-a-uuid'), 'garbage']) {
      expect(errorOf(await t.gql(PAGE, { after }), 'BAD_USER_INPUT').extensions!.field).toBe('after');
    }
  });
});
