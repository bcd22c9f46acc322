/**
 * Logs: the server's recent log (kept in memory, newest first), filtered by level and text, to
 * look into a problem without a terminal. Secrets were removed when the lines were written.
 * Data from /_hearth/api/v1/logs (server/api/admin/hearth/logs.ts).
 */
import { useEffect, useState } from 'react';
import { adminApi } from '../../api/admin.ts';
import { useLoad } from '../../api/context.tsx';
import type { LogLevelName, LogRecord } from '../../api/wire.ts';
import { EmptyState, PageHeader, Pill, SelectField, Switch, useDebouncedSearch } from '../../components/page.tsx';
import { Button, LoadState, TextField } from '../../components/ui.tsx';

const LEVELS: { value: LogLevelName; label: string }[] = [
  { value: 'debug', label: 'Everything' },
  { value: 'info', label: 'Information and up' },
  { value: 'warn', label: 'Warnings and errors' },
  { value: 'error', label: 'Errors only' },
];
const TONE = { debug: 'neutral', info: 'info', warn: 'warn', error: 'bad' } as const;
const LABEL = { debug: 'Debug', info: 'Info', warn: 'Warning', error: 'Error' } as const;

export function LogsPage() {
  const [level, setLevel] = useState<LogLevelName>('info');
  const { search: text, setSearch: setText, query: q } = useDebouncedSearch();
  const [follow, setFollow] = useState(false);
  const logs = useLoad((t) => adminApi.logs(t, { level, q: q || undefined, limit: 500 }), [level, q]);

  useEffect(() => {
    if (!follow) return;
    const t = setInterval(() => void logs.reload(), 3000);
    return () => clearInterval(t);
  }, [follow, logs.reload]);

  const records = logs.data?.records ?? [];
  return (
    <>
      <PageHeader
        title="Logs"
        intro="What the server has been doing recently, newest first. Useful when something doesn’t work — passwords and keys never appear here."
        actions={
          <Button kind="secondary" onClick={() => void logs.reload()} busy={logs.loading && !!logs.data}>
            Refresh
          </Button>
        }
      />
      <div className="card panel">
        <form className="toolbar" role="search" onSubmit={(e) => e.preventDefault()}>
          <SelectField label="Show" value={level} onChange={setLevel} options={LEVELS} className="toolbar-narrow" />
          <TextField label="Filter" type="search" value={text} onChange={setText} placeholder="Text in the message or details" autoComplete="off" spellCheck={false} />
          <Switch label="Keep updating" checked={follow} onChange={setFollow} />
        </form>
        <LoadState load={logs} label="Loading the log…" errorTitle="Couldn’t load the log" />
        {logs.data && records.length === 0 && (
          <EmptyState title="No matching lines" icon="logs">
            {q || level !== 'debug' ? 'Try a lower level or a shorter filter.' : 'Nothing has been logged since Hearth started.'}
          </EmptyState>
        )}
        {records.length > 0 && (
          <>
            <p className="small muted" aria-live="polite">
              {logs.data!.total > records.length ? `Newest ${records.length} of ${logs.data!.total} matching lines` : `${records.length} matching ${records.length === 1 ? 'line' : 'lines'}`} · Hearth keeps the last {logs.data!.kept} lines in memory
            </p>
            <ol className="log-list" aria-label="Log lines, newest first">
              {records.map((r, i) => (
                <LogLine key={`${r.ts}-${i}`} r={r} />
              ))}
            </ol>
          </>
        )}
      </div>
    </>
  );
}

function LogLine({ r }: { r: LogRecord }) {
  const fields = r.fields && Object.keys(r.fields).length > 0 ? JSON.stringify(r.fields) : undefined;
  const d = new Date(r.ts);
  return (
    <li className={`log-line log-${r.level}`}>
      <time className="log-time mono" dateTime={d.toISOString()} title={d.toLocaleString()}>
        {d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })}
      </time>
      <span className="log-level">
        <Pill tone={TONE[r.level]}>{LABEL[r.level]}</Pill>
      </span>
      <span className="log-msg">
        {r.msg}
        {fields && <span className="log-fields mono">{fields}</span>}
      </span>
    </li>
  );
}
