/**
 * Storage care: database and media sizes over time, and ways to give disk space back on a small
 * machine — compact the database, remove cached media from other servers, delete a room's old
 * messages (each purge ends with a compaction) — plus the limit on how complex a room on another
 * server may be for people here to join it. Data from /_hearth/api/v1/storage (storage-api.ts);
 * the two settings through PUT /_hearth/api/v1/settings.
 */
import { useState, type FormEvent } from 'react';
import { adminApi } from '../../api/admin.ts';
import { useAction, useLoad } from '../../api/context.tsx';
import { synapseApi } from '../../api/synapse.ts';
import { ConfirmDialog } from '../../components/Dialog.tsx';
import { formatBytes, formatDateTime } from '../../components/format.ts';
import { EmptyState, PageHeader, Section, SelectField, Switch } from '../../components/page.tsx';
import { ActionFeedback, Button, LoadState, SaveFooter, TextField } from '../../components/ui.tsx';
import { SizeChart } from './SizeChart.tsx';
import { storageApi, type CompactionReport, type StorageResponse } from './storage-api.ts';
import './storage.css';

const DAY_MS = 86_400_000;
const RANGES = [
  { value: '7', label: 'Last 7 days' },
  { value: '30', label: 'Last 30 days' },
  { value: '90', label: 'Last 90 days' },
  { value: '365', label: 'Last year' },
] as const;
type Range = (typeof RANGES)[number]['value'];

/** Whole days from a text field, or undefined. */
function days(text: string, min = 1): number | undefined {
  const n = Number(text.trim());
  return text.trim() && Number.isInteger(n) && n >= min && n <= 36_500 ? n : undefined;
}

function freed(c: CompactionReport | undefined): string {
  if (!c) return '';
  const gain = c.bytesBefore - c.bytesAfter;
  return gain > 0 ? ` ${formatBytes(gain)} of disk space came back.` : ' The database was already compact.';
}

export function StoragePage() {
  const [range, setRange] = useState<Range>('30');
  const data = useLoad((t) => storageApi.get(t, Number(range)), [range]);
  return (
    <>
      <PageHeader title="Storage" intro="How much disk Hearth uses, and ways to give space back when the computer fills up." />
      <LoadState load={data} label="Measuring the data folder…" errorTitle="Couldn’t load the storage figures" errorOnlyWhenEmpty>
        {(d) => (
          <div className="stack storage-page">
            <SizesSection data={d} range={range} onRange={setRange} />
            <CompactSection onDone={() => void data.reload()} />
            <RemoteMediaSection data={d} onDone={() => void data.reload()} />
            <RoomHistorySection onDone={() => void data.reload()} />
            <ComplexitySection data={d} onSaved={() => void data.reload()} />
          </div>
        )}
      </LoadState>
    </>
  );
}

function SizesSection({ data, range, onRange }: { data: StorageResponse; range: Range; onRange: (r: Range) => void }) {
  // The latest measurement ends the line, so the chart reaches "now".
  const samples = [...data.history.filter((s) => s.ts < data.current.measuredTs), { ...data.current, ts: data.current.measuredTs }];
  return (
    <Section
      title="Disk use"
      intro={`Measured ${formatDateTime(data.current.measuredTs)}. Hearth measures once an hour.`}
      actions={<SelectField label="Period" value={range} onChange={onRange} options={[...RANGES]} className="field-compact" />}
    >
      <dl className="stats">
        <div>
          <dt>Database</dt>
          <dd>{formatBytes(data.current.databaseBytes)}</dd>
        </div>
        <div>
          <dt>Media</dt>
          <dd>{formatBytes(data.current.mediaBytes)}</dd>
        </div>
        <div>
          <dt>Everything</dt>
          <dd>{formatBytes(data.current.totalBytes)}</dd>
        </div>
      </dl>
      {samples.length < 2 ? (
        <EmptyState title="The chart needs a little time" icon="storage">
          Hearth measures its data folder once an hour. The chart appears after the next measurement.
        </EmptyState>
      ) : (
        <SizeChart samples={samples} days={Number(range)} />
      )}
    </Section>
  );
}

function CompactSection({ onDone }: { onDone: () => void }) {
  const [asking, setAsking] = useState(false);
  const [result, setResult] = useState<string>();
  const action = useAction();
  const run = async (): Promise<void> => {
    const r = await action.run((t) => storageApi.compact(t));
    if (!r) return;
    setAsking(false);
    setResult(`Compacted in ${(r.durationMs / 1000).toFixed(1)} s: ${formatBytes(r.bytesBefore)} → ${formatBytes(r.bytesAfter)}.${freed(r)}`);
    onDone();
  };
  return (
    <Section
      title="Compact the database"
      intro="Deleting messages or accounts leaves gaps inside the database file. Compacting rewrites it so that space goes back to the disk. Hearth keeps running meanwhile."
    >
      <ActionFeedback success={result} />
      <div className="form-actions">
        <Button kind="secondary" onClick={() => (setResult(undefined), action.setError(undefined), setAsking(true))}>
          Compact now
        </Button>
      </div>
      {asking && (
        <ConfirmDialog title="Compact the database?" confirmLabel="Compact" busy={action.busy} error={action.error} onConfirm={() => void run()} onClose={() => setAsking(false)}>
          Hearth rewrites its database file. This takes a few seconds on a family server; nothing is deleted.
        </ConfirmDialog>
      )}
    </Section>
  );
}

function RemoteMediaSection({ data, onDone }: { data: StorageResponse; onDone: () => void }) {
  const retentionDays = data.remoteMediaRetentionMs ? Math.round(data.remoteMediaRetentionMs / DAY_MS) : undefined;
  const [text, setText] = useState(String(retentionDays ?? 30));
  const [asking, setAsking] = useState(false);
  const [showError, setShowError] = useState(false);
  const [result, setResult] = useState<string>();
  const action = useAction();
  const n = days(text, 0);
  const problem = n === undefined ? 'Give a whole number of days.' : undefined;

  const check = (then: () => void): void => {
    setResult(undefined);
    action.setError(undefined);
    if (problem) return setShowError(true);
    setShowError(false);
    then();
  };
  const purge = async (): Promise<void> => {
    const r = await action.run((t) => storageApi.purgeRemoteMedia(t, n!));
    if (!r) return;
    setAsking(false);
    setResult(
      r.deletedMedia === 0
        ? `Nothing to remove: no media from other servers went unused for ${n} days.`
        : `Removed ${r.deletedMedia} ${r.deletedMedia === 1 ? 'file' : 'files'}.${freed(r.compaction)}`,
    );
    onDone();
  };
  const saveSetting = async (value: number | null): Promise<void> => {
    const r = await action.run((t) => adminApi.updateSettings(t, { remoteMediaRetentionMs: value }));
    if (!r) return;
    setResult(value ? `Saved. Hearth removes media from other servers after ${n} days without use.` : 'Saved. Hearth keeps media from other servers until you remove it.');
    onDone();
  };

  return (
    <Section
      title="Media from other servers"
      intro="Pictures and files people here opened from other servers are kept on this computer. Old ones can go: they are downloaded again if someone opens them."
    >
      <form className="inline-form" onSubmit={(e: FormEvent) => (e.preventDefault(), check(() => setAsking(true)))} noValidate>
        <TextField label="Not used for (days)" value={text} onChange={setText} inputMode="numeric" error={showError ? problem : undefined} />
        <div className="field-after button-row">
          <Button type="submit" kind="secondary">
            Remove now
          </Button>
          <Button kind="quiet" busy={action.busy && !asking} onClick={() => check(() => void saveSetting(n! > 0 ? n! * DAY_MS : null))}>
            Do this automatically
          </Button>
        </div>
      </form>
      <p className="small muted" data-testid="media-retention">
        {retentionDays ? (
          <>
            Automatic: media unused for {retentionDays} days is removed.{' '}
            <button type="button" className="link-button" onClick={() => void saveSetting(null)}>
              Turn off
            </button>
          </>
        ) : (
          'Automatic removal is off.'
        )}
      </p>
      <ActionFeedback error={asking ? undefined : action.error} success={result} />
      {asking && (
        <ConfirmDialog
          title="Remove old media?"
          confirmLabel="Remove media"
          danger
          busy={action.busy}
          error={action.error}
          onConfirm={() => void purge()}
          onClose={() => setAsking(false)}
        >
          Media from other servers that nobody opened in the last {n} days is deleted from this computer. Media uploaded by people here is never touched.
        </ConfirmDialog>
      )}
    </Section>
  );
}

function RoomHistorySection({ onDone }: { onDone: () => void }) {
  const rooms = useLoad((t) => synapseApi.rooms(t, { from: 0, limit: 500 }), []);
  const [roomId, setRoomId] = useState('');
  const [text, setText] = useState('365');
  const [asking, setAsking] = useState(false);
  const [showErrors, setShowErrors] = useState(false);
  const [result, setResult] = useState<string>();
  const action = useAction();
  const list = rooms.data?.rooms ?? [];
  const chosen = roomId || list[0]?.room_id || '';
  const roomName = list.find((r) => r.room_id === chosen)?.name ?? chosen;
  const n = days(text);
  const problems = { room: chosen.startsWith('!') ? undefined : 'Give a room id, such as !abc:example.org.', days: n === undefined ? 'Give a whole number of days (1 or more).' : undefined };

  const purge = async (): Promise<void> => {
    const r = await action.run((t) => storageApi.purgeHistory(t, chosen, Date.now() - n! * DAY_MS));
    if (!r) return;
    setAsking(false);
    setResult(`Deleted ${r.purgedEvents} ${r.purgedEvents === 1 ? 'event' : 'events'} from ${roomName}.${freed(r.compaction)}`);
    onDone();
  };

  return (
    <Section
      title="Old messages in a room"
      intro="A busy room can hold years of messages. Deleting the old ones frees space; the room, its members and its settings stay."
    >
      <form
        className="inline-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          setResult(undefined);
          action.setError(undefined);
          if (problems.room || problems.days) return setShowErrors(true);
          setShowErrors(false);
          setAsking(true);
        }}
      >
        {list.length > 0 ? (
          <SelectField label="Room" value={chosen} onChange={setRoomId} options={list.map((r) => ({ value: r.room_id, label: r.name ?? r.canonical_alias ?? r.room_id }))} className="field-wide" />
        ) : (
          <TextField
            label="Room id"
            value={roomId}
            onChange={setRoomId}
            placeholder="!abc:example.org"
            className="input mono"
            help={rooms.loading ? undefined : 'There is no room list to choose from; paste the room’s id.'}
            error={showErrors ? problems.room : undefined}
          />
        )}
        <TextField label="Older than (days)" value={text} onChange={setText} inputMode="numeric" error={showErrors ? problems.days : undefined} />
        <div className="field-after">
          <Button type="submit" kind="secondary">
            Delete old messages
          </Button>
        </div>
      </form>
      <ActionFeedback error={asking ? undefined : action.error} success={result} />
      {asking && (
        <ConfirmDialog
          title={`Delete old messages in ${roomName}?`}
          confirmLabel="Delete messages"
          danger
          busy={action.busy}
          error={action.error}
          onConfirm={() => void purge()}
          onClose={() => setAsking(false)}
        >
          Messages sent before {formatDateTime(Date.now() - (n ?? 0) * DAY_MS)} are deleted from this server for everyone. This cannot be undone.
        </ConfirmDialog>
      )}
    </Section>
  );
}

function ComplexitySection({ data, onSaved }: { data: StorageResponse; onSaved: () => void }) {
  const [limited, setLimited] = useState(data.maxRemoteRoomComplexity !== null);
  const [text, setText] = useState(String(data.maxRemoteRoomComplexity ?? 1));
  const [showError, setShowError] = useState(false);
  const [saved, setSaved] = useState(false);
  const action = useAction();
  const value = Number(text.trim());
  const problem = !text.trim() || !Number.isFinite(value) || value <= 0 ? 'Give a number above 0, such as 1 or 2.5.' : undefined;

  const save = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setSaved(false);
    if (limited && problem) return setShowError(true);
    setShowError(false);
    const r = await action.run((t) => adminApi.updateSettings(t, { maxRemoteRoomComplexity: limited ? value : null }));
    if (r) {
      setSaved(true);
      onSaved();
    }
  };

  return (
    <Section
      title="Large rooms on other servers"
      intro="Joining a huge public room makes Hearth download and keep all of its state, which can overwhelm a small computer. A limit stops people here from joining rooms that big."
    >
      <form onSubmit={(e) => void save(e)} noValidate>
        <Switch label="Limit the size of rooms people can join" checked={limited} onChange={(v) => (setLimited(v), setSaved(false))} />
        {limited && (
          <div className="field-narrow">
            <TextField
              label="Largest room complexity"
              value={text}
              onChange={(v) => (setText(v), setSaved(false))}
              inputMode="decimal"
              help="Complexity is a room’s state events ÷ 500. 1 lets in rooms with up to about 500 members and settings; very large public rooms are far above 10."
              error={showError ? problem : undefined}
            />
          </div>
        )}
        <SaveFooter
          action={action}
          success={saved && (limited ? `Saved. Rooms with a complexity above ${value} can no longer be joined.` : 'Saved. Rooms of any size can be joined.')}
        />
      </form>
    </Section>
  );
}
