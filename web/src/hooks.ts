// What screens load and follow: data from the API (reloaded on demand), values that settle, the live connection.
import { useCallback, useEffect, useState } from 'react';
import { watchConnection, type Connection } from './live.ts';

/** Loads data and reloads on demand; keeps the last data while reloading. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data: T | undefined; error: unknown; reload: () => void; setData: (update: (data: T | undefined) => T | undefined) => void } {
  const [data, setDataState] = useState<T>();
  const [error, setError] = useState<unknown>();
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (value) => live && (setDataState(value), setError(undefined)),
      (err) => live && setError(err),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, version]);
  const reload = useCallback(() => setVersion((v) => v + 1), []);
  const setData = useCallback((update: (data: T | undefined) => T | undefined) => setDataState(update), []);
  return { data, error, reload, setData };
}

/** A value that follows `value` once it has stopped changing for `ms`. */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

/** The live connection's state, following it. */
export function useConnection(): Connection {
  const [connection, setConnection] = useState<Connection>({ state: 'connecting', since: Date.now() });
  useEffect(() => watchConnection(setConnection), []);
  return connection;
}
