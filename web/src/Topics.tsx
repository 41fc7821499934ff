// Topics (the host application's entity types) and their event catalogs.
import { useState } from 'react';
import { gql } from './api.ts';
import { loadTopics, TOPIC, type Topic, type TopicField } from './catalog.ts';
import { graphql, type VariablesOf } from './graphql.ts';
import { useLoad } from './hooks.ts';
import { Confirm, ErrorBanner, Field, errorFor, fieldErrors, unclaimed } from './ui.tsx';
import { useCan, useNotAllowed } from './viewer.ts';

const DELETE = graphql(`mutation($id: ID!) { deleteTopic(id: $id) { id } }`);
const UPDATE = graphql(`mutation($id: ID!, $input: UpdateTopicInput!) { updateTopic(id: $id, input: $input) { ...Topic } }`, [TOPIC]);
const CREATE = graphql(`mutation($input: CreateTopicInput!) { createTopic(input: $input) { id } }`);

type FieldType = NonNullable<VariablesOf<typeof CREATE>['input']['fields']>[number]['type'];
const TYPES: FieldType[] = ['STRING', 'INTEGER', 'NUMBER', 'BOOLEAN', 'DATE', 'DATETIME', 'ENUM', 'ARRAY', 'OBJECT'];

export function Topics() {
  const { data, error, reload } = useLoad(loadTopics, []);
  const [editing, setEditing] = useState<Topic | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Topic | null>(null);
  const mayManage = useCan('MANAGE');
  const notAllowed = useNotAllowed('MANAGE', 'change topics');
  return (
    <section aria-labelledby="topics-title">
      <div className="toolbar">
        <h1 id="topics-title">Topics</h1>
        {mayManage && (
          <button type="button" className="primary" onClick={() => setEditing('new')}>
            New topic
          </button>
        )}
      </div>
      {notAllowed && <p className="muted">{notAllowed}</p>}
      <ErrorBanner error={error} />
      {editing && (
        <TopicForm
          topic={editing === 'new' ? undefined : editing}
          onDone={() => {
            setEditing(null);
            reload();
          }}
        />
      )}
      {data?.length === 0 && !editing && <p className="empty">No topics yet. A topic is one kind of entity of your application, such as `delegate` or `course`.</p>}
      {data?.map((topic) => (
        <article key={topic.id} className="card" aria-labelledby={`topic-${topic.id}`}>
          <div className="toolbar">
            <h2 id={`topic-${topic.id}`}>
              {topic.name} <code>{topic.key}</code>
            </h2>
            {mayManage && (
              <>
                <button type="button" onClick={() => setEditing(topic)}>
                  Edit
                </button>
                <button type="button" className="danger" onClick={() => setDeleting(topic)}>
                  Delete
                </button>
              </>
            )}
          </div>
          {topic.description && <p>{topic.description}</p>}
          <p>
            Events: {topic.eventTypes.map((t, i) => (
              <span key={t}>
                {i > 0 && ', '}
                <code>{t}</code>
              </span>
            ))}
          </p>
          {topic.resourceUrlTemplate && <p className="muted">Resource: {topic.resourceUrlTemplate}</p>}
          {topic.fields.length > 0 && (
            <table className="grid catalog">
              <thead>
                <tr>
                  <th>Field</th>
                  <th>Path</th>
                  <th>Type</th>
                  <th>Merge tag</th>
                </tr>
              </thead>
              <tbody>
                {topic.fields.map((f) => (
                  <tr key={f.path}>
                    <td data-label="Field">{f.label}</td>
                    <td data-label="Path">
                      <code>{f.path}</code>
                    </td>
                    <td data-label="Type">
                      {f.type}
                      {f.values.length > 0 && <span className="muted"> ({f.values.join(', ')})</span>}
                    </td>
                    <td data-label="Merge tag">{f.mergeTag && <code>{f.mergeTag}</code>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </article>
      ))}
      <Confirm
        open={deleting !== null}
        title="Delete topic"
        message={`Delete the topic ${deleting?.key}? Webhooks that name it must be changed first.`}
        action="Delete"
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          await gql(DELETE, { id: deleting!.id });
          reload();
        }}
      />
    </section>
  );
}

type FieldRow = { path: string; label: string; type: FieldType; values: string; mergeTag: string };

function TopicForm({ topic, onDone }: { topic?: Topic; onDone: () => void }) {
  const [key, setKey] = useState(topic?.key ?? '');
  const [name, setName] = useState(topic?.name ?? '');
  const [description, setDescription] = useState(topic?.description ?? '');
  const [customActions, setCustomActions] = useState(topic?.customActions.join(', ') ?? '');
  const [resourceUrlTemplate, setResourceUrlTemplate] = useState(topic?.resourceUrlTemplate ?? '');
  const [entityIdType, setEntityIdType] = useState(topic?.entityIdType ?? 'STRING');
  const [fields, setFields] = useState<FieldRow[]>(
    topic?.fields.map((f: TopicField) => ({ path: f.path, label: f.label, type: f.type, values: f.values.join(', '), mergeTag: f.mergeTag ?? '' })) ?? [],
  );
  const [error, setError] = useState<unknown>();
  const errors = fieldErrors(error);
  const update = (i: number, patch: Partial<FieldRow>) => setFields(fields.map((f, j) => (j === i ? { ...f, ...patch } : f)));

  const save = async () => {
    const input = {
      name,
      description,
      customActions: customActions.split(',').map((a) => a.trim()).filter(Boolean),
      resourceUrlTemplate: resourceUrlTemplate || null,
      entityIdType,
      fields: fields.map((f) => ({ path: f.path, label: f.label, type: f.type, values: f.values.split(',').map((v) => v.trim()).filter(Boolean), mergeTag: f.mergeTag || null })),
    };
    try {
      if (topic) await gql(UPDATE, { id: topic.id, input });
      else await gql(CREATE, { input: { key, ...input } });
      onDone();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <form
      className="card topic-form"
      aria-label={topic ? `Edit topic ${topic.key}` : 'New topic'}
      onSubmit={(e) => {
        e.preventDefault();
        save();
      }}
      noValidate
    >
      <div className="row">
        <Field label="Key" error={errors.key} hint="lower-case, e.g. delegate">
          {(id, d) => <input id={id} aria-describedby={d} value={key} disabled={Boolean(topic)} onChange={(e) => setKey(e.target.value)} />}
        </Field>
        <Field label="Name" error={errors.name}>
          {(id, d) => <input id={id} aria-describedby={d} value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label="Entity ids" error={errors.entityIdType} hint="publishes with another kind are refused">
          {(id, d) => (
            <select id={id} aria-describedby={d} value={entityIdType} onChange={(e) => setEntityIdType(e.target.value as Topic['entityIdType'])}>
              <option value="STRING">text</option>
              <option value="INTEGER">whole numbers</option>
              <option value="UUID">UUIDs</option>
            </select>
          )}
        </Field>
        <Field label="Custom actions" error={errorFor(errors, 'customActions')} hint="beyond created, updated, deleted; comma-separated">
          {(id, d) => <input id={id} aria-describedby={d} value={customActions} onChange={(e) => setCustomActions(e.target.value)} placeholder="completed, cancelled" />}
        </Field>
      </div>
      <Field label="Description" error={errors.description} wide>
        {(id, d) => <input id={id} aria-describedby={d} value={description} onChange={(e) => setDescription(e.target.value)} />}
      </Field>
      <Field label="Resource URL" error={errors.resourceUrlTemplate} hint="URL of the entity in your application, with {id}" wide>
        {(id, d) => <input id={id} aria-describedby={d} value={resourceUrlTemplate} onChange={(e) => setResourceUrlTemplate(e.target.value)} />}
      </Field>
      <fieldset>
        <legend>Field catalog</legend>
        {fields.map((f, i) => (
          <div className="row catalog-row" key={i}>
            <input aria-label={`Field ${i + 1} path`} placeholder="status" value={f.path} onChange={(e) => update(i, { path: e.target.value })} />
            <input aria-label={`Field ${i + 1} label`} placeholder="Status" value={f.label} onChange={(e) => update(i, { label: e.target.value })} />
            <select aria-label={`Field ${i + 1} type`} value={f.type} onChange={(e) => update(i, { type: e.target.value as FieldType })}>
              {TYPES.map((t) => (
                <option key={t}>{t}</option>
              ))}
            </select>
            {f.type === 'ENUM' && <input aria-label={`Field ${i + 1} values`} placeholder="Open, Completed" value={f.values} onChange={(e) => update(i, { values: e.target.value })} />}
            <input aria-label={`Field ${i + 1} merge tag`} placeholder="@@Status" value={f.mergeTag} onChange={(e) => update(i, { mergeTag: e.target.value })} />
            <button type="button" className="link danger" aria-label={`Remove field ${i + 1}`} onClick={() => setFields(fields.filter((_, j) => j !== i))}>
              ✕
            </button>
          </div>
        ))}
        <button type="button" onClick={() => setFields([...fields, { path: '', label: '', type: 'STRING', values: '', mergeTag: '' }])}>
          + Field
        </button>
        {errorFor(errors, 'fields') && (
          <small className="error" role="alert">
            {errorFor(errors, 'fields')}
          </small>
        )}
      </fieldset>
      <ErrorBanner error={unclaimed(error, ['key', 'name', 'description', 'customActions', 'resourceUrlTemplate', 'fields'])} />
      <div className="actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="primary">
          {topic ? 'Save topic' : 'Create topic'}
        </button>
      </div>
    </form>
  );
}
