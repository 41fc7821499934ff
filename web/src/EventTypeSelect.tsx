// A select of the tenant's event types, as the Events and Deliveries filters use it.
import { loadTopics } from './catalog.ts';
import { useLoad } from './hooks.ts';

/** Chooses one of the tenant's event types (`topic.action`), or any. */
export function EventTypeSelect({ value, onChange }: { value: string; onChange: (type: string) => void }) {
  const topics = useLoad(loadTopics, []);
  const types = (topics.data ?? []).flatMap((t) => t.eventTypes);
  return (
    <label>
      Event type{' '}
      <select aria-label="Event type" value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">Any type</option>
        {types.map((t) => (
          <option key={t}>{t}</option>
        ))}
        {value && !types.includes(value) && <option>{value}</option>}
      </select>
    </label>
  );
}
