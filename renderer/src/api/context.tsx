/**
 * What every page after setup shares: the admin session, and loading helpers that turn an ended
 * session (401, unknown token) into the sign-in page instead of an error on every panel.
 */
import { createContext, useCallback, useContext, useEffect, useRef, useState, type DependencyList } from 'react';
import { ApiError } from './client.ts';
import { errorMessage } from '../error-message.ts';
import type { Session } from './session.ts';

export interface AdminContextValue {
  session: Session;
  token: string;
  serverName?: string;
  onExpired(): void;
}

const AdminContext = createContext<AdminContextValue | null>(null);
export const AdminProvider = AdminContext.Provider;

export function useAdmin(): AdminContextValue {
  const v = useContext(AdminContext);
  if (!v) throw new Error('useAdmin outside AdminProvider');
  return v;
}

export function isSessionEnded(e: unknown): boolean {
  return e instanceof ApiError && (e.status === 401 || e.errcode === 'M_UNKNOWN_TOKEN' || e.errcode === 'M_MISSING_TOKEN');
}

/** A readable message for a failed request. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError && e.status === 404 && e.errcode === 'M_UNRECOGNIZED') {
    return 'This Hearth does not offer that part of the admin API yet.';
  }
  return errorMessage(e);
}

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload(): Promise<void>;
  setData(d: T): void;
}

/** Loads `fn(token)` now and whenever `deps` change; stale answers are dropped. */
export function useLoad<T>(fn: (token: string) => Promise<T>, deps: DependencyList): Loaded<T> {
  const { token, onExpired } = useAdmin();
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(true);
  const seq = useRef(0);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const run = useCallback(fn, deps);
  const reload = useCallback(async () => {
    const mine = ++seq.current;
    setLoading(true);
    try {
      const d = await run(token);
      if (mine !== seq.current) return;
      setData(d);
      setError(undefined);
    } catch (e) {
      if (mine !== seq.current) return;
      if (isSessionEnded(e)) return onExpired();
      setError(errorText(e));
    } finally {
      if (mine === seq.current) setLoading(false);
    }
  }, [run, token, onExpired]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, loading, reload, setData };
}

/**
 * Runs one user action at a time: `busy` while it runs, `error` if it failed (an ended session
 * goes to sign-in). Resolves to the action's result, or undefined when it failed.
 */
export function useAction(): {
  busy: boolean;
  error: string | undefined;
  setError(e: string | undefined): void;
  run<T>(fn: (token: string) => Promise<T>): Promise<T | undefined>;
} {
  const { token, onExpired } = useAdmin();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const run = useCallback(
    async <T,>(fn: (token: string) => Promise<T>): Promise<T | undefined> => {
      setBusy(true);
      setError(undefined);
      try {
        return await fn(token);
      } catch (e) {
        if (isSessionEnded(e)) onExpired();
        else setError(errorText(e));
        return undefined;
      } finally {
        setBusy(false);
      }
    },
    [token, onExpired],
  );
  return { busy, error, setError, run };
}
