/**
 * The dashboard's "This computer" card, shown only in the desktop app (the preload bridge,
 * main/ipc-contract.ts): start Hearth at sign-in, problem notifications, and the data folder.
 * These are the app's own preferences on this computer, not server settings, so they go through
 * the bridge rather than the admin API (ARCHITECTURE.md, principle 6).
 */
import { useId, useState } from 'react';
import type { HearthBridge } from '../../../main/ipc-contract.ts';
import { useLoad } from '../api/context.tsx';
import { Switch } from '../components/page.tsx';
import { ActionFeedback, Button, LoadState, Notice } from '../components/ui.tsx';
import { bridgeErrorText } from './bridge.ts';

const AUTO_START_LABEL = 'Start Hearth when I sign in to this computer';
const NOTIFY_LABEL = 'Tell me about problems (certificate expiring, backups failing, disk nearly full)';

interface Prefs {
  autoStart: boolean;
  notifyProblems: boolean;
}

export function ThisComputer({ bridge }: { bridge: HearthBridge }) {
  const headingId = useId();
  const load = useLoad(async (): Promise<Prefs> => {
    try {
      const [autoStart, notifyProblems] = await Promise.all([bridge.getAutoStart(), bridge.getNotifyProblems()]);
      return { autoStart, notifyProblems };
    } catch (e) {
      throw new Error(bridgeErrorText(e));
    }
  }, [bridge]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [autoStartRefused, setAutoStartRefused] = useState(false);

  // Switches are not disabled while a call runs (that would drop keyboard focus): repeated
  // presses are ignored instead.
  const run = async (what: string, fn: () => Promise<void>): Promise<void> => {
    if (busy) return;
    setBusy(true);
    setError(undefined);
    try {
      await fn();
    } catch (e) {
      setError(`${what}: ${bridgeErrorText(e)}`);
    } finally {
      setBusy(false);
    }
  };

  const setAutoStart = (prefs: Prefs, wanted: boolean) =>
    run('Couldn’t change starting at sign-in', async () => {
      const now = await bridge.setAutoStart(wanted);
      setAutoStartRefused(now !== wanted);
      load.setData({ ...prefs, autoStart: now });
    });
  const setNotify = (prefs: Prefs, wanted: boolean) =>
    run('Couldn’t change problem notifications', async () => {
      load.setData({ ...prefs, notifyProblems: await bridge.setNotifyProblems(wanted) });
    });

  return (
    <section className="card panel panel-wide" aria-labelledby={headingId}>
      <h2 id={headingId}>This computer</h2>
      <p className="small muted">How the Hearth app behaves on this computer. The server’s own settings are on the other pages.</p>
      <LoadState load={load} label="Reading this computer’s settings…" errorTitle="Couldn’t read this computer’s settings">
        {(prefs) => (
          <>
            <Switch
              label={AUTO_START_LABEL}
              description="Hearth then starts quietly in the tray, so messages keep arriving without anyone opening it."
              checked={prefs.autoStart}
              onChange={(v) => void setAutoStart(prefs, v)}
            />
            {autoStartRefused && (
              <Notice tone="warning" live>
                This computer did not accept the change. On some systems (many Linux desktops) add Hearth to the startup applications in the system
                settings instead.
              </Notice>
            )}
            <Switch
              label={NOTIFY_LABEL}
              description="Shown as notifications on this computer; clicking one opens the page that fixes it."
              checked={prefs.notifyProblems}
              onChange={(v) => void setNotify(prefs, v)}
            />
          </>
        )}
      </LoadState>
      <ActionFeedback error={error} />
      <div className="form-actions">
        <Button kind="secondary" onClick={() => void run('Couldn’t open the data folder', () => bridge.openDataFolder())}>
          Open the data folder
        </Button>
        <span className="small muted">Where Hearth keeps the database, photos and the server’s keys.</span>
      </div>
    </section>
  );
}
