/**
 * Decides what to show: the setup wizard while the server needs setup, otherwise the sign-in page
 * until there is an admin session, then the pages after setup (dashboard, users, ...). The address
 * bar follows, so a reload lands on the same page and the browser's back button works.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { adminApi } from './api/admin.ts';
import { desktopSession, loadStoredSession, storeSession, type Session } from './api/session.ts';
import { AdminProvider, type AdminContextValue } from './api/context.tsx';
import { AppShell } from './components/AppShell.tsx';
import { ErrorState, Loading } from './components/ui.tsx';
import { BackupsPage } from './pages/backups/BackupsPage.tsx';
import { Dashboard } from './pages/dashboard/Dashboard.tsx';
import { FederationPage } from './pages/federation/FederationPage.tsx';
import { LogsPage } from './pages/logs/LogsPage.tsx';
import { RegistrationPage } from './pages/registration/RegistrationPage.tsx';
import { ReportsPage } from './pages/reports/ReportsPage.tsx';
import { RoomsPage } from './pages/rooms/RoomsPage.tsx';
import { SignIn } from './pages/sign-in/SignIn.tsx';
import { StoragePage } from './pages/storage/StoragePage.tsx';
import { TlsPage } from './pages/tls/TlsPage.tsx';
import { UsersPage } from './pages/users/UsersPage.tsx';
import { Wizard } from './pages/setup/Wizard.tsx';
import { BASE, pageFromPath, pagePath, pageTitle, type PageId } from './page-paths.ts';
import { routePath, type View } from './routes.ts';
import { errorMessage } from './error-message.ts';

const PAGE_BODIES: Record<Exclude<PageId, 'dashboard'>, () => React.JSX.Element> = {
  users: UsersPage,
  registration: RegistrationPage,
  rooms: RoomsPage,
  reports: ReportsPage,
  federation: FederationPage,
  tls: TlsPage,
  backups: BackupsPage,
  storage: StoragePage,
  logs: LogsPage,
};

/** The page to land on after signing in: the one in the address bar, if any. */
const landingPage = (): PageId => pageFromPath(window.location.pathname);

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
      setView(session ? { kind: 'dashboard', session, page: landingPage() } : { kind: 'sign-in' });
    } catch (e) {
      setView({ kind: 'error', message: errorMessage(e) });
    }
  }, []);

  useEffect(() => {
    void decide();
  }, [decide]);

  useEffect(() => {
    const path = routePath(view);
    if (path && window.location.pathname !== path) window.history.replaceState(null, '', path);
    document.title = view.kind === 'dashboard' ? `${pageTitle(view.page)} · Hearth` : { loading: 'Hearth', error: 'Hearth', setup: 'Set up Hearth', 'sign-in': 'Sign in · Hearth' }[view.kind];
  }, [view]);

  // The browser's back and forward buttons move between pages.
  useEffect(() => {
    const onPop = (): void => setView((v) => (v.kind === 'dashboard' && window.location.pathname.startsWith(BASE) ? { ...v, page: landingPage() } : v));
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  const signedIn = (session: Session, notes?: string[]): void => {
    if (!session.desktop) storeSession(session);
    setView({ kind: 'dashboard', session, notes, page: notes ? 'dashboard' : landingPage() });
  };

  // The desktop shell's sessions are short-lived by design: ask it for a fresh one (a different
  // token) before falling back to the sign-in page.
  const expired = useCallback(() => {
    storeSession(undefined);
    const signIn: View = { kind: 'sign-in', notice: 'Your session ended. Please sign in again.' };
    void desktopSession()
      .catch(() => undefined)
      .then((fresh) =>
        setView((v) => (fresh && v.kind === 'dashboard' && v.session.desktop && fresh.accessToken !== v.session.accessToken ? { ...v, session: fresh } : signIn)),
      );
  }, []);

  const session = view.kind === 'dashboard' ? view.session : undefined;
  const admin = useMemo<AdminContextValue | undefined>(
    () => (session ? { session, token: session.accessToken, serverName, onExpired: expired } : undefined),
    [session, serverName, expired],
  );

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
    case 'dashboard': {
      const page = view.page;
      const Body = page === 'dashboard' ? undefined : PAGE_BODIES[page];
      return (
        <AdminProvider value={admin!}>
          <AppShell
            page={page}
            serverName={serverName}
            userId={view.session.userId}
            onNavigate={(p) => {
              if (p !== page) window.history.pushState(null, '', pagePath(p));
              setView({ ...view, page: p, notes: undefined });
            }}
            onSignOut={
              view.session.desktop
                ? undefined
                : () => {
                    const token = view.session.accessToken;
                    storeSession(undefined);
                    setView({ kind: 'sign-in', notice: 'You have signed out.' });
                    adminApi.logout(token).catch(() => undefined);
                  }
            }
          >
            {Body ? <Body key={page} /> : <Dashboard session={view.session} notes={view.notes} onExpired={expired} />}
          </AppShell>
        </AdminProvider>
      );
    }
  }
}
