/**
 * Decides what to show: the setup wizard while the server needs setup, otherwise the sign-in page
 * until there is an admin session, then the dashboard. The address bar follows, so a reload lands
 * on the same page.
 */
import { useCallback, useEffect, useState } from 'react';
import { adminApi } from './api/admin.ts';
import { desktopSession, loadStoredSession, storeSession, type Session } from './api/session.ts';
import { ErrorState, Loading } from './components/ui.tsx';
import { Dashboard } from './pages/dashboard/Dashboard.tsx';
import { SignIn } from './pages/sign-in/SignIn.tsx';
import { Wizard } from './pages/setup/Wizard.tsx';
import { routePath, type View } from './routes.ts';

export function App() {
  const [view, setView] = useState<View>({ kind: 'loading' });
  const [serverName, setServerName] = useState<string>();

  const decide = useCallback(async (): Promise<void> => {
    setView({ kind: 'loading' });
    try {
      const state = await adminApi.setupState();
      setServerName(state.serverName);
      if (state.needsSetup) {
        setView({ kind: 'setup', setup: state });
        return;
      }
      const session = (await desktopSession()) ?? loadStoredSession();
      setView(session ? { kind: 'dashboard', session } : { kind: 'sign-in' });
    } catch (e) {
      setView({ kind: 'error', message: e instanceof Error ? e.message : String(e) });
    }
  }, []);

  useEffect(() => {
    void decide();
  }, [decide]);

  useEffect(() => {
    const path = routePath(view);
    if (path && window.location.pathname !== path) window.history.replaceState(null, '', path);
    document.title = { loading: 'Hearth', error: 'Hearth', setup: 'Set up Hearth', 'sign-in': 'Sign in · Hearth', dashboard: 'Dashboard · Hearth' }[view.kind];
  }, [view]);

  const signedIn = (session: Session, notes?: string[]): void => {
    if (!session.desktop) storeSession(session);
    setView({ kind: 'dashboard', session, notes });
  };

  switch (view.kind) {
    case 'loading':
      return (
        <main className="centered">
          <Loading label="Connecting to Hearth…" />
        </main>
      );
    case 'error':
      return (
        <main className="centered">
          <ErrorState title="Hearth isn’t answering" message={view.message} onRetry={() => void decide()} />
        </main>
      );
    case 'setup':
      return <Wizard setup={view.setup} onDone={(r) => (setServerName(r.server_name), signedIn({ userId: r.user_id, accessToken: r.access_token, deviceId: r.device_id }, r.notes))} />;
    case 'sign-in':
      return <SignIn serverName={serverName} notice={view.notice} onSignedIn={(s) => signedIn(s)} />;
    case 'dashboard':
      return (
        <Dashboard
          session={view.session}
          notes={view.notes}
          onExpired={() => {
            storeSession(undefined);
            setView({ kind: 'sign-in', notice: 'Your session ended. Please sign in again.' });
          }}
          onSignOut={() => {
            const token = view.session.accessToken;
            storeSession(undefined);
            setView({ kind: 'sign-in', notice: 'You have signed out.' });
            adminApi.logout(token).catch(() => undefined);
          }}
        />
      );
  }
}
