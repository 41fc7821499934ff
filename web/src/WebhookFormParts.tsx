// The webhook form's own controls: its triggers and event types, its headers, number fields and merge tags.
import { useState } from 'react';
import type { Topic } from './catalog.ts';
import { alwaysSecret } from './meta.ts';
import { Field, errorFor } from './ui.tsx';
import type { Form, Header, Trigger } from './webhookModel.ts';

const TRIGGERS: [Trigger['trigger'], string][] = [
  ['CREATE', 'is created'],
  ['UPDATE', 'is updated'],
  ['CREATE_OR_UPDATE', 'is created or updated'],
  ['DELETE', 'is deleted'],
];

export function NumberField(props: { label: string; value: string; onChange: (v: string) => void; error?: string; hint?: string }) {
  return (
    <Field label={props.label} error={props.error} hint={props.hint}>
      {(id, d) => <input id={id} aria-describedby={d} type="number" inputMode="numeric" value={props.value} onChange={(e) => props.onChange(e.target.value)} />}
    </Field>
  );
}

export function Triggers({ form, topics, set, errors }: { form: Form; topics: Topic[]; set: <K extends keyof Form>(k: K, v: Form[K]) => void; errors: Record<string, string> }) {
  const [topic, setTopic] = useState('');
  const [trigger, setTrigger] = useState<Trigger['trigger']>('CREATE');
  const [eventType, setEventType] = useState('');
  // Choosing a topic and a trigger takes effect at once: the chip they made follows both selects
  // until "Add another trigger" starts the next one.
  const [made, setMade] = useState<number | null>(null);
  const choose = (nextTopic: string, nextTrigger: Trigger['trigger']) => {
    setTopic(nextTopic);
    setTrigger(nextTrigger);
    if (!nextTopic) return;
    const chosen = { topic: nextTopic, trigger: nextTrigger };
    const others = form.triggers.filter((_, i) => i !== made);
    if (others.some((t) => t.topic === chosen.topic && t.trigger === chosen.trigger)) return;
    if (made !== null && made < form.triggers.length) set('triggers', form.triggers.map((t, i) => (i === made ? chosen : t)));
    else {
      set('triggers', [...form.triggers, chosen]);
      setMade(form.triggers.length);
    }
  };
  const everyType = topics.flatMap((t) => [...t.eventTypes, `${t.key}.*`]);
  const addEvent = () => {
    const type = eventType.trim();
    if (type && !form.events.includes(type)) set('events', [...form.events, type]);
    setEventType('');
  };
  return (
    <>
      <div className="row">
        <Field label="Topic" error={errorFor(errors, 'triggers')}>
          {(id, d) => (
            <select id={id} aria-describedby={d} value={topic} onChange={(e) => choose(e.target.value, trigger)}>
              <option value="">Choose a topic…</option>
              {topics.map((t) => (
                <option key={t.key} value={t.key}>
                  {t.name} ({t.key})
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Trigger">
          {(id) => (
            <select id={id} value={trigger} onChange={(e) => choose(topic, e.target.value as Trigger['trigger'])}>
              {TRIGGERS.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <button
          type="button"
          className="align-end"
          disabled={!topic}
          onClick={() => {
            setMade(null);
            setTopic('');
          }}
        >
          Add another trigger
        </button>
      </div>
      <div className="row">
        <Field label="Or an event type" error={errorFor(errors, 'events')} hint="topic.action, or topic.* for all">
          {(id, d) => (
            <input
              id={id}
              aria-describedby={d}
              list="event-types"
              value={eventType}
              onChange={(e) => setEventType(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter') {
                  e.preventDefault();
                  addEvent();
                }
              }}
              placeholder="delegate.created"
            />
          )}
        </Field>
        <datalist id="event-types">
          {everyType.map((t) => (
            <option key={t} value={t} />
          ))}
        </datalist>
        <button type="button" className="align-end" disabled={!eventType.trim()} onClick={addEvent}>
          Add event
        </button>
      </div>
      <ul className="chips" aria-label="Chosen events">
        {form.triggers.map((t, i) => (
          <li key={`t${i}`}>
            {t.topic} {TRIGGERS.find(([v]) => v === t.trigger)?.[1]}
            <button
              type="button"
              aria-label={`Remove ${t.topic} ${t.trigger}`}
              onClick={() => {
                set('triggers', form.triggers.filter((_, j) => j !== i));
                setMade(null);
                setTopic('');
              }}
            >
              ✕
            </button>
          </li>
        ))}
        {form.events.map((e) => (
          <li key={e}>
            {e}
            <button type="button" aria-label={`Remove ${e}`} onClick={() => set('events', form.events.filter((x) => x !== e))}>
              ✕
            </button>
          </li>
        ))}
      </ul>
    </>
  );
}

export function Headers({ headers, onChange, error }: { headers: Header[]; onChange: (h: Header[]) => void; error?: string }) {
  const update = (i: number, patch: Partial<Header>) => onChange(headers.map((h, j) => (j === i ? { ...h, ...patch } : h)));
  return (
    <fieldset className="headers">
      <legend>Headers</legend>
      {headers.map((h, i) => (
        <div className="row" key={i}>
          <input aria-label={`Header ${i + 1} name`} placeholder="X-Api-Key" value={h.name} onChange={(e) => update(i, { name: e.target.value })} />
          <input
            aria-label={`Header ${i + 1} value`}
            placeholder={h.hidden ? '(hidden: type to replace)' : 'value'}
            type={h.secret ? 'password' : 'text'}
            autoComplete="off"
            value={h.value}
            onChange={(e) => update(i, { value: e.target.value })}
          />
          <label className="check">
            <input type="checkbox" checked={h.secret || alwaysSecret(h.name)} disabled={alwaysSecret(h.name)} onChange={(e) => update(i, { secret: e.target.checked })} /> secret
          </label>
          <button type="button" className="link danger" aria-label={`Remove header ${i + 1}`} onClick={() => onChange(headers.filter((_, j) => j !== i))}>
            ✕
          </button>
        </div>
      ))}
      <button type="button" onClick={() => onChange([...headers, { name: '', value: '', secret: false }])}>
        + Header
      </button>
      {headers.some((h) => h.hidden && h.value === '') && <small className="hint">Hidden values are kept as they are until every one is typed again.</small>}
      {error && (
        <small className="error" role="alert">
          {error}
        </small>
      )}
    </fieldset>
  );
}

export function MergeTags({ fields }: { fields: Topic['fields'] }) {
  const tags = fields.filter((f) => f.mergeTag);
  if (tags.length === 0) return <>Liquid: {'{{ event.entityId }}'}, {'{{ data.status }}'}.</>;
  return <>Merge tags: {tags.map((f) => f.mergeTag).join(', ')}</>;
}
