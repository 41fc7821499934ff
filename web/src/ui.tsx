// Small building blocks every screen uses.
import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { ApiError } from './errors.ts';
import { clock } from './format.ts';
import type { Connection } from './live.ts';

/** A labelled form control with the API's error for that field underneath. */
export function Field(props: { label: string; error?: string; hint?: ReactNode; children: (id: string, describedBy?: string) => ReactNode; wide?: boolean }) {
  const id = useId();
  const errorId = `${id}-error`;
  return (
    <div className={`field${props.wide ? ' wide' : ''}${props.error ? ' invalid' : ''}`}>
      <label htmlFor={id}>{props.label}</label>
      {props.children(id, props.error ? errorId : undefined)}
      {props.hint && !props.error && <small className="hint">{props.hint}</small>}
      {props.error && (
        <small className="error" id={errorId} role="alert">
          {props.error}
        </small>
      )}
    </div>
  );
}

/** Shows an error that no field claims. */
export function ErrorBanner({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div className="banner error" role="alert">
      {message}
    </div>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status.toLowerCase()}`}>{status}</span>;
}

/** A modal dialog (the browser's own <dialog>: focus is trapped, Escape closes it). */
export function Dialog(props: { title: string; open: boolean; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) dialog.showModal();
    if (!props.open && dialog.open) dialog.close();
  }, [props.open]);
  return (
    <dialog ref={ref} onClose={props.onClose} aria-label={props.title}>
      <h2>{props.title}</h2>
      {props.children}
    </dialog>
  );
}

/** Asks before doing something that cannot be undone. */
export function Confirm(props: { open: boolean; title: string; message: ReactNode; action: string; onConfirm: () => Promise<void> | void; onClose: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  return (
    <Dialog title={props.title} open={props.open} onClose={props.onClose}>
      <p>{props.message}</p>
      <ErrorBanner error={error} />
      <div className="actions">
        <button type="button" onClick={props.onClose}>
          Cancel
        </button>
        <button
          type="button"
          className="danger"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            try {
              await props.onConfirm();
              props.onClose();
            } catch (err) {
              setError(err);
            } finally {
              setBusy(false);
            }
          }}
        >
          {props.action}
        </button>
      </div>
    </Dialog>
  );
}

export function fieldErrors(error: unknown): Record<string, string> {
  return error instanceof ApiError ? error.byField() : {};
}

/** Errors no form field shows, given the fields the form has. */
export function unclaimed(error: unknown, fields: string[]): unknown {
  if (!(error instanceof ApiError) || error.problems.length === 0) return error;
  const claimed = Object.keys(error.byField()).every((name) => fields.some((f) => name === f || name.startsWith(`${f}[`) || name.startsWith(`${f}.`)));
  return claimed ? undefined : error;
}

/** The first error of a field or of anything under it (`headers` → `headers[1].name`). */
export function errorFor(errors: Record<string, string>, field: string): string | undefined {
  const hits = Object.entries(errors).filter(([name]) => name === field || name.startsWith(`${field}[`) || name.startsWith(`${field}.`));
  if (hits.length === 0) return undefined;
  return hits.map(([name, message]) => (name === field ? message : `${name.slice(field.length).replace(/^\./, '')}: ${message}`)).join('; ');
}

/**
 * A value as indented JSON; a string holding JSON is indented too, other text is shown as
 * it is. The box scrolls, so it takes focus (keyboard users scroll it too).
 */
export function Json({ value }: { value: unknown }) {
  return (
    <pre className="code" tabIndex={0}>
      {typeof value === 'string' ? indented(value) : JSON.stringify(value, null, 2)}
    </pre>
  );
}

function indented(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** Request headers as a two-column table. */
export function HeaderTable({ headers }: { headers: Array<{ name: string; value: string }> }) {
  return (
    <table className="kv">
      <tbody>
        {headers.map((h) => (
          <tr key={h.name}>
            <th>{h.name}</th>
            <td>{h.value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A secret the API answers once (a signing secret, an API key): shown until the person says it is copied. */
export function SecretOnce(props: { title: string; secret: string | undefined; testId: string; onClose: () => void; children: ReactNode }) {
  return (
    <Dialog title={props.title} open={props.secret !== undefined} onClose={props.onClose}>
      <p>Copy it now: it is shown only this once. {props.children}</p>
      <pre className="code secret" data-testid={props.testId}>
        {props.secret}
      </pre>
      <div className="actions">
        <button type="button" className="primary" onClick={props.onClose} autoFocus>
          I have copied it
        </button>
      </div>
    </Dialog>
  );
}

const LIVE_WORDS = { idle: 'connecting…', connecting: 'connecting…', live: '● live', reconnecting: 'reconnecting…', offline: 'offline, retrying' } as const;

/** Says whether what the screen shows follows the server, and since when it may be out of date. */
export function LiveBadge({ connection }: { connection: Connection }) {
  return (
    <span className={`live ${connection.state}`} role="status" data-live={connection.state}>
      {LIVE_WORDS[connection.state]}
    </span>
  );
}

/** Shown while the live connection is lost: what the screen shows may be out of date. */
export function StaleNotice({ connection }: { connection: Connection }) {
  if (connection.state !== 'reconnecting' && connection.state !== 'offline') return null;
  return (
    <div className="banner warn" role="alert">
      Live updates stopped at {clock(connection.since)}: what you see may be out of date. {connection.state === 'offline' ? 'Herald cannot be reached; it keeps trying.' : 'Reconnecting…'}
    </div>
  );
}

/**
 * Copies text, and says only what happened: "Copied" when the clipboard took it; where
 * the browser offers no clipboard (a page not on https or localhost) the text is
 * selected for the person to copy, and the button says so.
 */
export function CopyButton({ text, label, selectIn }: { text: string; label: string; selectIn?: string }) {
  const [said, setSaid] = useState<string>();
  return (
    <>
      <button
        type="button"
        onClick={async () => {
          try {
            if (!navigator.clipboard) throw new Error('no clipboard');
            await navigator.clipboard.writeText(text);
            setSaid('Copied');
          } catch {
            const element = selectIn ? document.querySelector(selectIn) : null;
            if (element) window.getSelection()?.selectAllChildren(element);
            setSaid(element ? 'Selected: press Ctrl+C (⌘C) to copy' : 'Could not copy: this browser allows copying only on https');
          }
        }}
      >
        {label}
      </button>
      {said && (
        <span className="muted" role="status">
          {said}
        </span>
      )}
    </>
  );
}

/**
 * A panel over the right of the page (all of it on a phone) for one record: focus moves to
 * its title when it opens (and when `focusKey` changes); Escape or ✕ closes it, unless a
 * menu or a dialog has the keyboard.
 */
export function Drawer({ label, title, focusKey, onClose, children }: { label: string; title: string; focusKey: string; onClose: () => void; children: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [focusKey]);
  useEffect(() => {
    const escape = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || document.querySelector('dialog[open], [role="menu"]')) return;
      e.preventDefault();
      onClose();
    };
    document.addEventListener('keydown', escape);
    return () => document.removeEventListener('keydown', escape);
  }, [onClose]);
  return (
    <aside className="drawer" aria-label={label}>
      <div className="toolbar">
        <h2 ref={heading} tabIndex={-1}>
          {title}
        </h2>
        <button type="button" onClick={onClose} aria-label="Close detail" title="Close (Escape)">
          ✕
        </button>
      </div>
      {children}
    </aside>
  );
}

