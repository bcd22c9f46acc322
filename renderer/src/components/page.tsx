/**
 * Building blocks of the pages after setup: the page heading (focused on arrival so screen
 * readers announce the page), empty states, paging, switches, status pills and tables.
 */
import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { Icon, type IconName } from './Icon.tsx';
import { Button } from './ui.tsx';

export function PageHeader(props: { title: string; intro?: ReactNode; actions?: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus({ preventScroll: true });
  }, [props.title]);
  return (
    <div className="page-header">
      <div>
        <h1 className="page-title" tabIndex={-1} ref={ref}>
          {props.title}
        </h1>
        {props.intro && <p className="page-intro">{props.intro}</p>}
      </div>
      {props.actions && <div className="page-actions">{props.actions}</div>}
    </div>
  );
}

export function Section(props: { title: string; intro?: ReactNode; actions?: ReactNode; children: ReactNode; className?: string }) {
  const id = useId();
  return (
    <section className={`card panel section${props.className ? ` ${props.className}` : ''}`} aria-labelledby={id}>
      <div className="section-head">
        <div>
          <h2 id={id}>{props.title}</h2>
          {props.intro && <p className="section-intro">{props.intro}</p>}
        </div>
        {props.actions && <div className="section-actions">{props.actions}</div>}
      </div>
      {props.children}
    </section>
  );
}

export function EmptyState(props: { title: string; children?: ReactNode; action?: ReactNode; icon?: IconName }) {
  return (
    <div className="empty">
      <span className="empty-icon" aria-hidden="true">
        {props.icon ? <Icon name={props.icon} /> : '○'}
      </span>
      <p className="empty-title">{props.title}</p>
      {props.children && <div className="empty-text">{props.children}</div>}
      {props.action && <div className="empty-action">{props.action}</div>}
    </div>
  );
}

/**
 * Search as you type, without a request per key press: `search` follows the box, `query` (trimmed)
 * follows it 250 ms after the last key, and `onSettle` runs then (e.g. back to the first page).
 */
export function useDebouncedSearch(onSettle?: () => void): { search: string; setSearch: (v: string) => void; query: string } {
  const [search, setSearch] = useState('');
  const [query, setQuery] = useState('');
  const settle = useRef(onSettle);
  settle.current = onSettle;
  useEffect(() => {
    const t = setTimeout(() => {
      setQuery(search.trim());
      settle.current?.();
    }, 250);
    return () => clearTimeout(t);
  }, [search]);
  return { search, setSearch, query };
}

/**
 * A list page's detail dialog: the item open in it (`open`, `setOpen`), and `close(message)`,
 * which on a change shows `message` as the page's `notice` and reloads the list.
 */
export function useDetailDialog<T>(reload: () => Promise<void>): { open: T | undefined; setOpen: (item: T) => void; notice: string | undefined; close: (message?: string) => void } {
  const [open, setOpen] = useState<T>();
  const [notice, setNotice] = useState<string>();
  const close = (message?: string): void => {
    setOpen(undefined);
    if (message) {
      setNotice(message);
      void reload();
    }
  };
  return { open, setOpen, notice, close };
}

/** A column heading: its text, or its content with a class (e.g. "num"). */
type Column = string | { label: ReactNode; className?: string };
/** The heading over a column of row buttons: "Actions", for screen readers only. */
export const ACTIONS_COLUMN: Column = { label: <span className="visually-hidden">Actions</span> };

/** A table in its scrolling wrapper, with one row of column headings and (when given) a caption for screen readers. */
export function DataTable(props: { caption?: string; columns: Column[]; children: ReactNode }) {
  return (
    <div className="table-wrap">
      <table className="table">
        {props.caption && <caption className="visually-hidden">{props.caption}</caption>}
        <thead>
          <tr>
            {props.columns.map((c, i) => {
              const col = typeof c === 'string' ? { label: c } : c;
              return (
                <th key={i} scope="col" className={col.className}>
                  {col.label}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}

/** "Showing 21–40 of 57" with previous and next. */
export function Pager(props: { from: number; count: number; total: number; pageSize: number; onPage: (from: number) => void; noun: string }) {
  if (props.total <= props.pageSize && props.from === 0) {
    return (
      <p className="pager-summary muted small" aria-live="polite">
        {props.total} {props.noun}
      </p>
    );
  }
  const first = props.count === 0 ? 0 : props.from + 1;
  const last = props.from + props.count;
  return (
    <nav className="pager" aria-label={`Pages of ${props.noun}`}>
      <p className="pager-summary muted small" aria-live="polite">
        Showing {first}–{last} of {props.total} {props.noun}
      </p>
      <div className="pager-buttons">
        <Button kind="secondary" className="btn-small" disabled={props.from === 0} onClick={() => props.onPage(Math.max(0, props.from - props.pageSize))}>
          ← Previous
        </Button>
        <Button kind="secondary" className="btn-small" disabled={last >= props.total} onClick={() => props.onPage(props.from + props.pageSize)}>
          Next →
        </Button>
      </div>
    </nav>
  );
}

/** An on/off switch: a button with role="switch", so Space and Enter toggle it. */
export function Switch(props: { label: string; checked: boolean; onChange: (v: boolean) => void; disabled?: boolean; description?: ReactNode }) {
  const id = useId();
  return (
    <div className="switch-row">
      <div>
        <span id={`${id}-label`} className="field-label">
          {props.label}
        </span>
        {props.description && (
          <span id={`${id}-desc`} className="field-help switch-desc">
            {props.description}
          </span>
        )}
      </div>
      <button
        type="button"
        role="switch"
        aria-checked={props.checked}
        aria-labelledby={`${id}-label`}
        aria-describedby={props.description ? `${id}-desc` : undefined}
        className="switch"
        disabled={props.disabled}
        onClick={() => props.onChange(!props.checked)}
      >
        <span className="switch-thumb" aria-hidden="true" />
      </button>
    </div>
  );
}

export function Pill(props: { tone: 'ok' | 'warn' | 'bad' | 'info' | 'neutral'; children: ReactNode }) {
  return <span className={`pill pill-${props.tone}`}>{props.children}</span>;
}

/** A native checkbox with its label. */
export function Checkbox(props: { label: ReactNode; checked: boolean; onChange: (v: boolean) => void; help?: ReactNode }) {
  const id = useId();
  return (
    <div className="checkbox">
      <input id={id} type="checkbox" checked={props.checked} onChange={(e) => props.onChange(e.target.checked)} aria-describedby={props.help ? `${id}-help` : undefined} />
      <div>
        <label htmlFor={id}>{props.label}</label>
        {props.help && (
          <div id={`${id}-help`} className="field-help">
            {props.help}
          </div>
        )}
      </div>
    </div>
  );
}

/** A labelled <select>. */
export function SelectField<T extends string>(props: { label: string; value: T; onChange: (v: T) => void; options: { value: T; label: string }[]; help?: ReactNode; className?: string }) {
  const id = useId();
  return (
    <div className={`field${props.className ? ` ${props.className}` : ''}`}>
      <label htmlFor={id} className="field-label">
        {props.label}
      </label>
      {props.help && (
        <div id={`${id}-help`} className="field-help">
          {props.help}
        </div>
      )}
      <select id={id} className="select" value={props.value} onChange={(e) => props.onChange(e.target.value as T)} aria-describedby={props.help ? `${id}-help` : undefined}>
        {props.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}

/** A labelled multi-line text box. */
export function TextArea(props: { label: string; value: string; onChange: (v: string) => void; help?: ReactNode; rows?: number; mono?: boolean; placeholder?: string }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id} className="field-label">
        {props.label}
      </label>
      {props.help && (
        <div id={`${id}-help`} className="field-help">
          {props.help}
        </div>
      )}
      <textarea
        id={id}
        className={`textarea${props.mono ? ' mono' : ''}`}
        rows={props.rows ?? 4}
        value={props.value}
        placeholder={props.placeholder}
        spellCheck={false}
        onChange={(e) => props.onChange(e.target.value)}
        aria-describedby={props.help ? `${id}-help` : undefined}
      />
    </div>
  );
}
