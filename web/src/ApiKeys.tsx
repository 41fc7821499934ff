// API keys of the tenant (ADMIN only): create one (its secret is shown once), revoke one.
import { useState } from 'react';
import { gql } from './api.ts';
import { graphql, type ResultOf } from './graphql.ts';
import { time } from './format.ts';
import { useLoad } from './hooks.ts';
import { Confirm, ErrorBanner, SecretOnce, Field, fieldErrors, unclaimed } from './ui.tsx';

const KEYS = graphql(`query($all: Boolean) { apiKeys(first: 100, includeRevoked: $all) { edges { node { id name prefix role createdAt lastUsedAt revokedAt } } } }`);
type Key = ResultOf<typeof KEYS>['apiKeys']['edges'][number]['node'];
type Role = Key['role'];
const CREATE = graphql(`mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }`);
const REVOKE = graphql(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`);

const ROLES: [Role, string][] = [
  ['VIEWER', 'Viewer: reads everything'],
  ['PUBLISHER', 'Publisher: publishes events only'],
  ['DEVELOPER', 'Developer: webhooks, topics, publishing, re-triggering'],
  ['ADMIN', 'Admin: everything, keys too'],
];

export function ApiKeys({ ownKeyPrefix }: { ownKeyPrefix?: string }) {
  const [showRevoked, setShowRevoked] = useState(false);
  const keys = useLoad(() => gql(KEYS, { all: showRevoked }).then((d) => d.apiKeys.edges.map((e) => e.node)), [showRevoked]);
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('DEVELOPER');
  const [error, setError] = useState<unknown>();
  const [secret, setSecret] = useState<string>();
  const [revoking, setRevoking] = useState<Key | null>(null);
  const errors = fieldErrors(error);

  return (
    <section aria-labelledby="keys-title">
      <div className="toolbar">
        <h1 id="keys-title">API keys</h1>
        <label className="check">
          <input type="checkbox" checked={showRevoked} onChange={(e) => setShowRevoked(e.target.checked)} /> Show revoked
        </label>
      </div>
      <form
        className="card"
        aria-label="New API key"
        noValidate
        onSubmit={async (e) => {
          e.preventDefault();
          try {
            const d = await gql(CREATE, { input: { name, role } });
            setSecret(d.createApiKey.key);
            setName('');
            setError(undefined);
            keys.reload();
          } catch (err) {
            setError(err);
          }
        }}
      >
        <div className="row">
          <Field label="Key name" error={errors.name} hint="Who or what uses it, e.g. the website integration">
            {(id, d) => <input id={id} aria-describedby={d} value={name} onChange={(e) => setName(e.target.value)} />}
          </Field>
          <Field label="Role" error={errors.role}>
            {(id) => (
              <select id={id} value={role} onChange={(e) => setRole(e.target.value as Role)}>
                {ROLES.map(([value, label]) => (
                  <option key={value} value={value}>
                    {label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <button type="submit" className="primary align-end">
            Create key
          </button>
        </div>
        <ErrorBanner error={unclaimed(error, ['name', 'role'])} />
      </form>
      <ErrorBanner error={keys.error} />
      <table className="grid">
        <thead>
          <tr>
            <th>Name</th>
            <th>Key</th>
            <th>Role</th>
            <th>Created</th>
            <th>Last used</th>
            <th>
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {keys.data?.map((key) => (
            <tr key={key.id} data-key={key.name}>
              <td data-label="Name">{key.name}</td>
              <td data-label="Key">
                <code>{key.prefix}…</code>
                {key.prefix === ownKeyPrefix && <span className="muted"> (this session)</span>}
              </td>
              <td data-label="Role">{key.role}</td>
              <td data-label="Created">{time(key.createdAt)}</td>
              <td data-label="Last used">{time(key.lastUsedAt)}</td>
              <td className="row-actions">
                {key.revokedAt ? (
                  <span className="muted">revoked {time(key.revokedAt)}</span>
                ) : (
                  <button type="button" className="danger" onClick={() => setRevoking(key)}>
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <SecretOnce title="New API key" secret={secret} testId="api-key" onClose={() => setSecret(undefined)}>
        Send it as <code>Authorization: Bearer …</code>.
      </SecretOnce>
      <Confirm
        open={revoking !== null}
        title="Revoke API key"
        message={`Revoke ${revoking?.name} (${revoking?.prefix}…)? Every request and open subscription with it is refused at once.`}
        action="Revoke"
        onClose={() => setRevoking(null)}
        onConfirm={async () => {
          await gql(REVOKE, { id: revoking!.id });
          keys.reload();
        }}
      />
    </section>
  );
}
