/**
 * Backups: the folder, how often, how many to keep; back up now; the backups in the folder, each
 * with a "verify" that checks every file against the manifest's checksums. Restoring is offline
 * (the server must be stopped): in the desktop app the shell does it (main/restore.ts, through the
 * bridge), in a browser the page explains the command-line way.
 * Data from /_hearth/api/v1/backups (server/api/admin/hearth/backups.ts).
 */
import { useState, type FormEvent } from 'react';
import { adminApi } from '../../api/admin.ts';
import { useAction, useLoad } from '../../api/context.tsx';
import type { BackupInfo, BackupsResponse, VerifyBackupResponse } from '../../api/wire.ts';
import { bridgeErrorText, desktopBridge } from '../../desktop/bridge.ts';
import { ConfirmDialog } from '../../components/Dialog.tsx';
import { formatBytes, formatDateTime, relativeTime } from '../../components/format.ts';
import { DataTable, EmptyState, PageHeader, Pill, Section, SelectField } from '../../components/page.tsx';
import { ActionFeedback, Button, LoadState, Notice, SaveFooter, TextField } from '../../components/ui.tsx';

const SCHEDULES = [
  { value: 'off', label: 'Only when I click “Back up now”' },
  { value: '6', label: 'Every 6 hours' },
  { value: '24', label: 'Every day' },
  { value: '168', label: 'Every week' },
] as const;
type Schedule = (typeof SCHEDULES)[number]['value'] | 'custom';

export function BackupsPage() {
  const backups = useLoad((t) => adminApi.backups(t), []);
  return (
    <>
      <PageHeader title="Backups" intro="A backup is one file holding the database, uploaded media and the server’s signing key, checked with checksums. Keep copies on another disk." />
      <LoadState load={backups} label="Loading backups…" errorTitle="Couldn’t load the backups" errorOnlyWhenEmpty>
        {(b) => (
          <div className="stack">
            <NowSection b={b} onChanged={() => void backups.reload()} />
            <SettingsSection b={b} onSaved={backups.setData} />
            <ListSection b={b} />
            <RestoreSection onRestored={() => void backups.reload()} />
          </div>
        )}
      </LoadState>
    </>
  );
}

function NowSection({ b, onChanged }: { b: BackupsResponse; onChanged: () => void }) {
  const action = useAction();
  const [made, setMade] = useState<BackupInfo>();
  const now = async (): Promise<void> => {
    setMade(undefined);
    const r = await action.run((t) => adminApi.backupNow(t));
    if (r) setMade(r.backup);
    onChanged();
  };
  return (
    <Section title="Status" actions={<Button onClick={() => void now()} busy={action.busy || b.running} disabled={!b.dir}>Back up now</Button>}>
      {!b.dir && (
        <Notice tone="warning" title="Choose a folder first">
          Backups need a folder — ideally on another disk or a USB drive. Set it below.
        </Notice>
      )}
      {b.lastError && (
        <Notice tone="error" title="The last backup failed">
          {b.lastError}
        </Notice>
      )}
      <ActionFeedback
        error={action.error}
        success={
          made && (
            <>
              Backup <span className="mono">{made.name}</span> saved ({formatBytes(made.sizeBytes)}).
            </>
          )
        }
      />
      <dl className="kv">
        <div>
          <dt>Last backup</dt>
          <dd>{b.lastBackup ? `${relativeTime(b.lastBackup.createdTs)} (${formatDateTime(b.lastBackup.createdTs)})` : <span className="muted">None yet</span>}</dd>
        </div>
        <div>
          <dt>Next backup</dt>
          <dd>{b.nextBackupTs ? formatDateTime(b.nextBackupTs) : <span className="muted">Not scheduled</span>}</dd>
        </div>
      </dl>
    </Section>
  );
}

function SettingsSection({ b, onSaved }: { b: BackupsResponse; onSaved: (b: BackupsResponse) => void }) {
  const initial: Schedule = b.intervalHours === null ? 'off' : (SCHEDULES.find((s) => s.value === String(b.intervalHours))?.value ?? 'custom');
  const [dir, setDir] = useState(b.dir ?? '');
  const [schedule, setSchedule] = useState<Schedule>(initial);
  const [keep, setKeep] = useState(String(b.keep));
  const [saved, setSaved] = useState(false);
  const action = useAction();
  const bridge = desktopBridge();
  const keepN = Number(keep);
  const keepProblem = !Number.isInteger(keepN) || keepN < 1 || keepN > 1000 ? 'Enter a number from 1 to 1000.' : undefined;

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setSaved(false);
    if (keepProblem) return;
    const body: { dir: string | null; keep: number; intervalHours?: number | null } = { dir: dir.trim() || null, keep: keepN };
    if (schedule !== 'custom') body.intervalHours = schedule === 'off' ? null : Number(schedule);
    const r = await action.run((t) => adminApi.updateBackupSettings(t, body));
    if (r) {
      onSaved(r);
      setSaved(true);
    }
  };
  const options = [...SCHEDULES, ...(initial === 'custom' ? [{ value: 'custom' as const, label: `Every ${b.intervalHours} hours` }] : [])];
  return (
    <Section title="Where and how often">
      <form onSubmit={(e) => void submit(e)} noValidate>
        <TextField
          label="Backup folder"
          value={dir}
          onChange={(v) => (setDir(v), setSaved(false))}
          className="input mono"
          placeholder="/media/usb/hearth-backups"
          help="A folder on this computer. Hearth creates it if needed."
          spellCheck={false}
          autoComplete="off"
        >
          {bridge && (
            <div className="field-after">
              <Button kind="quiet" className="btn-small" onClick={() => void bridge.pickFolder('backups').then((p) => p && setDir(p))}>
                Choose folder…
              </Button>
            </div>
          )}
        </TextField>
        <div className="two-up">
          <SelectField label="Back up automatically" value={schedule} onChange={(v) => (setSchedule(v), setSaved(false))} options={options} />
          <TextField label="Backups to keep" type="number" min={1} max={1000} value={keep} onChange={(v) => (setKeep(v), setSaved(false))} error={keepProblem} help="Older ones are deleted after each new backup." inputMode="numeric" />
        </div>
        <SaveFooter action={action} success={saved && 'Saved.'} />
      </form>
    </Section>
  );
}

function ListSection({ b }: { b: BackupsResponse }) {
  const action = useAction();
  const [checking, setChecking] = useState<string>();
  const [results, setResults] = useState<Record<string, VerifyBackupResponse | string>>({});
  const verify = async (name: string): Promise<void> => {
    setChecking(name);
    const r = await action.run((t) => adminApi.verifyBackup(t, name));
    setResults((x) => ({ ...x, [name]: r ?? 'failed' }));
    setChecking(undefined);
  };
  const list = [...b.backups].sort((x, y) => y.createdTs - x.createdTs);
  return (
    <Section title="Backups in the folder" intro={b.dir ? <span className="mono">{b.dir}</span> : undefined}>
      {action.error && (
        <Notice tone="error" live title="This backup failed its check">
          {action.error}
        </Notice>
      )}
      {list.length === 0 ? (
        <EmptyState title="No backups yet" icon="backups">
          {b.dir ? 'Click “Back up now” to make the first one.' : 'Choose a folder, then make the first backup.'}
        </EmptyState>
      ) : (
        <DataTable caption="Backups" columns={['Backup', 'Made', { label: 'Size', className: 'num' }, { label: 'Check', className: 'cell-actions' }]}>
          {list.map((x) => {
            const r = results[x.name];
            return (
              <tr key={x.name}>
                <td className="mono small">{x.name}</td>
                <td className="nowrap">
                  <span title={formatDateTime(x.createdTs)}>{relativeTime(x.createdTs)}</span>
                </td>
                <td className="num nowrap">{formatBytes(x.sizeBytes)}</td>
                <td className="cell-actions">
                  {r === undefined ? (
                    <Button kind="secondary" className="btn-small" busy={checking === x.name} disabled={checking !== undefined} onClick={() => void verify(x.name)}>
                      Verify<span className="visually-hidden"> {x.name}</span>
                    </Button>
                  ) : typeof r === 'string' ? (
                    <Pill tone="bad">Damaged</Pill>
                  ) : (
                    <span role="status">
                      <Pill tone="ok">
                        ✓ Intact — {r.files} files
                      </Pill>
                    </span>
                  )}
                </td>
              </tr>
            );
          })}
        </DataTable>
      )}
    </Section>
  );
}

type RestoreStep = { step: 'idle' } | { step: 'confirm'; file: string } | { step: 'restoring'; file: string } | { step: 'done'; movedAsideTo: string } | { step: 'failed'; error: string };

function RestoreSection({ onRestored }: { onRestored: () => void }) {
  const bridge = desktopBridge();
  const [state, setState] = useState<RestoreStep>({ step: 'idle' });
  if (!bridge) {
    return (
      <Section title="Restoring a backup">
        <p className="small muted restore-note">
          To restore, stop Hearth and start it with <code>--restore-backup FILE</code> and an empty <code>--data</code> folder. The backup is verified first, and every device’s one-time keys are cleared so encryption keeps working.
        </p>
      </Section>
    );
  }
  const pick = async (): Promise<void> => {
    try {
      const file = await bridge.pickBackupFile();
      setState(file ? { step: 'confirm', file } : { step: 'idle' });
    } catch (e) {
      setState({ step: 'failed', error: `Couldn’t choose a file: ${bridgeErrorText(e)}` });
    }
  };
  const restore = async (file: string): Promise<void> => {
    setState({ step: 'restoring', file });
    try {
      const r = await bridge.restoreBackup(file);
      setState(r.ok ? { step: 'done', movedAsideTo: r.movedAsideTo } : { step: 'failed', error: r.error });
      if (r.ok) onRestored();
    } catch (e) {
      setState({ step: 'failed', error: bridgeErrorText(e) });
    }
  };
  const busy = state.step === 'restoring';
  return (
    <Section
      title="Restoring a backup"
      intro="Puts the server back to how it was when a backup was made. Anything since then (messages, accounts, photos) is not in the restored server."
      actions={
        <Button kind="secondary" onClick={() => void pick()} busy={busy}>
          Restore from a backup…
        </Button>
      }
    >
      {busy && (
        <Notice tone="info" live title="Restoring…">
          Checking <span className="mono">{state.file}</span>, then restoring it. Hearth is stopped for a moment; this page stays open.
        </Notice>
      )}
      <ActionFeedback
        error={state.step === 'failed' ? state.error : undefined}
        success={
          state.step === 'done' && (
            <>
              Restored. Hearth is running on the backup’s data. The data it had before is kept in <span className="mono">{state.movedAsideTo}</span>; delete that folder once
              everything looks right.
            </>
          )
        }
      />
      {state.step === 'confirm' && (
        <ConfirmDialog title="Restore this backup?" confirmLabel="Restore" danger onClose={() => setState({ step: 'idle' })} onConfirm={() => void restore(state.file)}>
          <p>
            Restore <span className="mono">{state.file}</span>?
          </p>
          <ul>
            <li>The backup is checked first. If it is damaged, nothing changes.</li>
            <li>Hearth stops for a moment, so phones and computers lose the connection briefly and then reconnect by themselves.</li>
            <li>
              The current data is not deleted: it is moved aside to a folder beside the data folder, named after it with “.before-restore-” and today’s date and time. You will
              see exactly where once it is done.
            </li>
            <li>Messages, accounts and photos added since the backup was made will not be in the restored server.</li>
            <li>Devices upload new encryption keys by themselves; nobody needs to do anything.</li>
          </ul>
        </ConfirmDialog>
      )}
    </Section>
  );
}
