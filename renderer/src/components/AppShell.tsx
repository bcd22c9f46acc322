/**
 * The frame of every page after setup: a top bar (server, who is signed in, sign out), the
 * navigation between pages as real links (so they open in a new tab, and the browser's back
 * button works), and a "skip to content" link for keyboard users.
 */
import type { MouseEvent, ReactNode } from 'react';
import { PAGES, pagePath, type PageId } from '../page-paths.ts';
import { Icon } from './Icon.tsx';
import { Button, Logo } from './ui.tsx';

export function AppShell(props: { page: PageId; serverName?: string; userId: string; onNavigate: (p: PageId) => void; onSignOut?: () => void; children: ReactNode }) {
  const groups = [...new Set(PAGES.map((p) => p.group))];
  const follow = (e: MouseEvent<HTMLAnchorElement>, id: PageId): void => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    props.onNavigate(id);
  };
  return (
    <div className="app">
      <a className="skip-link" href="#content">
        Skip to content
      </a>
      <header className="topbar">
        <div className="brand">
          <Logo />
          <span>Hearth</span>
          {props.serverName && <span className="topbar-server mono">{props.serverName}</span>}
        </div>
        <div className="topbar-user">
          <span className="muted mono topbar-id">{props.userId}</span>
          {props.onSignOut && (
            <Button kind="quiet" onClick={props.onSignOut}>
              Sign out
            </Button>
          )}
        </div>
      </header>
      <div className="shell">
        <nav className="sidenav" aria-label="Admin pages">
          {groups.map((g) => (
            <div key={g} className="sidenav-group">
              <p className="sidenav-heading" id={`nav-${g}`}>
                {g}
              </p>
              <ul aria-labelledby={`nav-${g}`}>
                {PAGES.filter((p) => p.group === g).map((p) => (
                  <li key={p.id}>
                    <a href={pagePath(p.id)} aria-current={p.id === props.page ? 'page' : undefined} onClick={(e) => follow(e, p.id)}>
                      <Icon name={p.id} className="sidenav-icon" />
                      {p.nav}
                    </a>
                  </li>
                ))}
              </ul>
            </div>
          ))}
        </nav>
        <main className="page" id="content">
          {props.children}
        </main>
      </div>
    </div>
  );
}
