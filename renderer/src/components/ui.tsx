/** Shared building blocks: labelled fields, choice cards, notices, buttons, loading and error states. */
import { useId, useState, type ReactNode, type InputHTMLAttributes } from 'react';
import type { Loaded } from '../api/context.tsx';

export function Button(props: {
  children: ReactNode;
  kind?: 'primary' | 'secondary' | 'quiet' | 'danger';
  type?: 'button' | 'submit';
  onClick?: () => void;
  disabled?: boolean;
  busy?: boolean;
  className?: string;
}) {
  const { kind = 'primary', type = 'button', busy = false } = props;
  return (
    <button
      type={type}
      className={`btn btn-${kind}${props.className ? ` ${props.className}` : ''}`}
      onClick={props.onClick}
      disabled={props.disabled || busy}
      aria-busy={busy || undefined}
    >
      {busy && <span className="spinner spinner-inline" aria-hidden="true" />}
      {props.children}
    </button>
  );
}

export function TextField(
  props: {
    label: string;
    help?: ReactNode;
    error?: string;
    value: string;
    onChange: (v: string) => void;
    prefix?: string;
    suffix?: string;
    children?: ReactNode;
  } & Omit<InputHTMLAttributes<HTMLInputElement>, 'value' | 'onChange' | 'prefix'>,
) {
  const { label, help, error, value, onChange, prefix, suffix, children, 'aria-describedby': extraDescribedBy, ...rest } = props;
  const id = useId();
  const helpId = `${id}-help`;
  const errorId = `${id}-error`;
  const describedBy = [help ? helpId : '', error ? errorId : '', extraDescribedBy ?? ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id} className="field-label">
        {label}
      </label>
      {help && (
        <div id={helpId} className="field-help">
          {help}
        </div>
      )}
      <div className="field-control">
        {prefix && <span className="field-affix" aria-hidden="true">{prefix}</span>}
        <input
          id={id}
          className="input"
          value={value}
          onChange={(e) => onChange(e.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy}
          {...rest}
        />
        {suffix && <span className="field-affix" aria-hidden="true">{suffix}</span>}
      </div>
      {error && (
        <p id={errorId} className="field-error" role="alert">
          {error}
        </p>
      )}
      {children}
    </div>
  );
}

export interface Choice<T extends string> {
  value: T;
  title: string;
  description: ReactNode;
  badge?: string;
  tone?: 'recommended' | 'caution' | 'soon';
}

/** Radio buttons drawn as cards: arrow keys move between them, as native radios do. */
export function ChoiceCards<T extends string>(props: { legend: string; hideLegend?: boolean; name: string; value: T; onChange: (v: T) => void; choices: Choice<T>[]; help?: ReactNode }) {
  const helpId = useId();
  return (
    <fieldset className="choices" aria-describedby={props.help ? helpId : undefined}>
      <legend className={props.hideLegend ? 'visually-hidden' : 'field-label'}>{props.legend}</legend>
      {props.help && (
        <div id={helpId} className="field-help">
          {props.help}
        </div>
      )}
      {props.choices.map((c) => {
        const id = `${props.name}-${c.value}`;
        return (
          <label key={c.value} htmlFor={id} className={`choice${props.value === c.value ? ' choice-selected' : ''}`}>
            <input id={id} type="radio" name={props.name} value={c.value} checked={props.value === c.value} onChange={() => props.onChange(c.value)} />
            <span className="choice-body">
              <span className="choice-title">
                {c.title}
                {c.badge && <span className={`badge badge-${c.tone ?? 'recommended'}`}>{c.badge}</span>}
              </span>
              <span className="choice-description">{c.description}</span>
            </span>
          </label>
        );
      })}
    </fieldset>
  );
}

export function Notice(props: { tone?: 'info' | 'warning' | 'error' | 'success'; title?: string; children: ReactNode; live?: boolean }) {
  const tone = props.tone ?? 'info';
  const icon = { info: 'i', warning: '!', error: '×', success: '✓' }[tone];
  return (
    <div className={`notice notice-${tone}`} role={props.live ? (tone === 'error' ? 'alert' : 'status') : undefined}>
      <span className="notice-icon" aria-hidden="true">
        {icon}
      </span>
      <div>
        {props.title && <p className="notice-title">{props.title}</p>}
        <div className="notice-body">{props.children}</div>
      </div>
    </div>
  );
}

/** The outcome of a form's action: its error, or what it achieved (both announced). */
export function ActionFeedback(props: { error?: string; success?: ReactNode }) {
  return (
    <>
      {props.error && (
        <Notice tone="error" live>
          {props.error}
        </Notice>
      )}
      {props.success && (
        <Notice tone="success" live>
          {props.success}
        </Notice>
      )}
    </>
  );
}

/** The end of a settings form: what saving did, then the submit button ("Save" unless told). */
export function SaveFooter(props: { action: { busy: boolean; error?: string }; success?: ReactNode; label?: ReactNode; disabled?: boolean }) {
  return (
    <>
      <ActionFeedback error={props.action.error} success={props.success} />
      <div className="form-actions">
        <Button type="submit" busy={props.action.busy} disabled={props.disabled}>
          {props.label ?? 'Save'}
        </Button>
      </div>
    </>
  );
}

export function Loading(props: { label: string }) {
  return (
    <div className="loading" role="status">
      <span className="spinner" aria-hidden="true" />
      <span>{props.label}</span>
    </div>
  );
}

export function ErrorState(props: { title: string; message: string; onRetry?: () => void }) {
  return (
    <div className="error-state" role="alert">
      <h2>{props.title}</h2>
      <p>{props.message}</p>
      {props.onRetry && <Button onClick={props.onRetry}>Try again</Button>}
    </div>
  );
}

/**
 * What a `useLoad` shows: a spinner until the first answer, the error with "Try again" when a load
 * failed, then `children` with the data. `errorOnlyWhenEmpty` keeps a failed reload quiet while
 * earlier data is on screen.
 */
export function LoadState<T>(props: { load: Loaded<T>; label: string; errorTitle: string; errorOnlyWhenEmpty?: boolean; children?: (data: T) => ReactNode }) {
  const { data, error, loading, reload } = props.load;
  return (
    <>
      {!data && loading && <Loading label={props.label} />}
      {error && (!data || !props.errorOnlyWhenEmpty) && <ErrorState title={props.errorTitle} message={error} onRetry={() => void reload()} />}
      {data ? props.children?.(data) : null}
    </>
  );
}

/** Copies `text`; shows "Copy", or `children` when given (then styled as a secondary button). */
export function CopyButton(props: { text: string; label: string; children?: ReactNode }) {
  const [copied, setCopied] = useState(false);
  const copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(props.text);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      setCopied(false);
    }
  };
  return (
    <button type="button" className={`btn ${props.children ? 'btn-secondary' : 'btn-quiet'} btn-small`} onClick={() => void copy()} aria-label={`${props.label}: copy`}>
      {copied ? 'Copied' : (props.children ?? 'Copy')}
      <span className="visually-hidden" aria-live="polite">
        {copied ? 'Copied to the clipboard' : ''}
      </span>
    </button>
  );
}

export function Logo() {
  return (
    <svg className="logo" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <rect width="32" height="32" rx="8" className="logo-bg" />
      <path d="M16 6c3 4 7 7 7 12a7 7 0 0 1-14 0c0-3 2-5 3-6 0 2 1 4 3 4-1-4 0-7 1-10z" className="logo-flame" />
    </svg>
  );
}
