// Changes not saved yet, kept in this tab (sessionStorage) while the person goes elsewhere
// (to add the enum value a condition needs, say) and given back when they return. The
// values of secret headers are never kept.
export interface Draft<T> {
  form: T;
  at: number;
}

const PREFIX = 'herald.draft.';

export function saveDraft<T extends { headers?: Array<{ secret: boolean; value: string }> }>(key: string, form: T): void {
  const kept = form.headers ? { ...form, headers: form.headers.map((h) => (h.secret ? { ...h, value: '' } : h)) } : form;
  try {
    sessionStorage.setItem(PREFIX + key, JSON.stringify({ form: kept, at: Date.now() }));
  } catch {
    // Storage full or refused: the draft is not kept; nothing else depends on it.
  }
}

export function readDraft<T>(key: string): Draft<T> | null {
  try {
    const text = sessionStorage.getItem(PREFIX + key);
    return text ? (JSON.parse(text) as Draft<T>) : null;
  } catch {
    return null;
  }
}

export function clearDraft(key: string): void {
  sessionStorage.removeItem(PREFIX + key);
}
