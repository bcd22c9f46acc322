/**
 * The dashboard: is the server running, how do devices reach it (addresses, QR code, a link to a
 * client), how many people and rooms, how much disk it takes, and the main choices in effect;
 * in the desktop app also the app's own settings on this computer (desktop/ThisComputer.tsx).
 */
import { useCallback, useEffect, useState } from 'react';
import type { StatusResponse } from '../../../../server/api/admin/hearth/types.ts';
import { adminApi } from '../../api/admin.ts';
import { ApiError } from '../../api/client.ts';
import type { Session } from '../../api/session.ts';
import { QrCode } from '../../components/QrCode.tsx';
import { formatBytes } from '../../components/format.ts';
import { CopyButton, ErrorState, Loading, Notice } from '../../components/ui.tsx';
import { desktopBridge } from '../../desktop/bridge.ts';
import { ThisComputer } from '../../desktop/ThisComputer.tsx';

const REGISTRATION = { closed: 'Only the admin', token: 'Invite codes', captcha: 'CAPTCHA', open: 'Anyone' } as const;
const TLS = {
  none: 'None (home network)',
  'self-signed': 'Hearth certificate',
  'acme-http': 'Let’s Encrypt',
  'acme-dns': 'Let’s Encrypt DNS',
  files: 'Own certificate',
  proxy: 'Reverse proxy',
} as const;

/** The address a phone should use: the public URL if set, else the first LAN address. */
export function deviceAddress(s: StatusResponse): string {
  const client = new URL(s.addresses.client);
  const isLoopback = /^(127\.|\[::1\]|localhost)/.test(client.hostname);
  if (s.publicBaseUrl && s.publicBaseUrl !== s.addresses.client) return s.publicBaseUrl;
  if (!isLoopback || s.clientLoopbackOnly) return s.addresses.client;
  const v4 = s.lanAddresses.find((a) => a.family === 'IPv4');
  return v4 ? `http://${v4.address}:${s.clientPort}` : s.addresses.client;
}

export function Dashboard(props: { session: Session; notes?: string[]; onExpired: () => void }) {
  const [status, setStatus] = useState<StatusResponse>();
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(true);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      setStatus(await adminApi.status(props.session.accessToken));
      setError(undefined);
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.errcode === 'M_UNKNOWN_TOKEN')) {
        props.onExpired();
        return;
      }
      setError(e instanceof Error ? e.message : 'Could not load the status.');
    } finally {
      setLoading(false);
    }
  }, [props.session.accessToken]);

  useEffect(() => {
    void load();
    const t = setInterval(() => void load(), 30_000);
    return () => clearInterval(t);
  }, [load]);

  return (
    <>
      <h1 className="page-title">Dashboard</h1>
      {props.notes?.map((n) => (
        <Notice key={n} tone="info" title="About your connection choice">
          {n}
        </Notice>
      ))}
      {!status && loading && <Loading label="Loading the server’s status…" />}
      {!status && !loading && error && <ErrorState title="We couldn’t reach Hearth" message={error} onRetry={() => void load()} />}
      {status && <DashboardBody status={status} stale={error} />}
    </>
  );
}

function DashboardBody({ status, stale }: { status: StatusResponse; stale?: string }) {
  const address = deviceAddress(status);
  const running = status.state === 'running';
  const since = new Date(status.startedTs);
  const bridge = desktopBridge();
  return (
    <>
      {stale && (
        <Notice tone="warning" live>
          Couldn’t refresh: {stale} The figures below may be out of date.
        </Notice>
      )}
      <section className={`status-banner ${running ? 'status-ok' : 'status-bad'}`} aria-labelledby="status-heading">
        <span className="status-dot" aria-hidden="true" />
        <div>
          <h2 id="status-heading">{running ? 'Hearth is running' : `Hearth is ${status.state}`}</h2>
          <p>
            Since {since.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })} · version {status.version}
          </p>
        </div>
      </section>

      <div className="grid">
        <section className="card panel panel-wide" aria-labelledby="connect-heading">
          <h2 id="connect-heading">Connect a phone or computer</h2>
          <div className="connect">
            <QrCode text={address} label={`QR code for the server address ${address}`} />
            <div>
              <ol className="connect-steps">
                <li>Install Element (or another Matrix app).</li>
                <li>
                  Choose to sign in, change the server (“Edit” or “Other”), and enter:
                  <div className="copy-row">
                    <span className="mono address-big">{address}</span>
                    <CopyButton text={address} label="Server address" />
                  </div>
                </li>
                <li>Sign in with the account you were given.</li>
              </ol>
              <p className="small">
                <a href="https://app.element.io/#/login" target="_blank" rel="noreferrer noopener">
                  Open Element in a browser
                </a>
                {status.tlsMode === 'none' && <span className="muted"> — web and mobile apps need HTTPS, which isn’t set up yet; Element Desktop works now.</span>}
              </p>
            </div>
          </div>
          {status.clientLoopbackOnly && (
            <Notice tone="info" title="Only this computer can connect">
              Hearth accepts connections from this computer only. To let other devices in, start it with{' '}
              <code>--listen 0.0.0.0:{status.clientPort}</code>.
            </Notice>
          )}
        </section>

        <section className="card panel" aria-labelledby="numbers-heading">
          <h2 id="numbers-heading">At a glance</h2>
          <dl className="stats">
            <div>
              <dt>Accounts</dt>
              <dd>{status.counts.users}</dd>
            </div>
            <div>
              <dt>Rooms</dt>
              <dd>{status.counts.rooms}</dd>
            </div>
            <div>
              <dt>Disk used</dt>
              <dd>{formatBytes(status.disk.totalBytes)}</dd>
            </div>
          </dl>
          <p className="small muted">
            Database {formatBytes(status.disk.databaseBytes)} · media {formatBytes(status.disk.mediaBytes)}
          </p>
          {status.counts.rooms === 0 && <p className="small empty-hint">No rooms yet. Once your family starts chatting, rooms will be counted here.</p>}
        </section>

        <section className="card panel" aria-labelledby="settings-heading">
          <h2 id="settings-heading">Settings in effect</h2>
          <dl className="kv">
            <div>
              <dt>New accounts</dt>
              <dd>{REGISTRATION[status.registration]}</dd>
            </div>
            <div>
              <dt>Other servers</dt>
              <dd>{status.federationEnabled ? 'Connected (federation on)' : 'Just this server'}</dd>
            </div>
            <div>
              <dt>HTTPS</dt>
              <dd>{TLS[status.tlsMode]}</dd>
            </div>
          </dl>
        </section>
        {bridge && <ThisComputer bridge={bridge} />}
        <section className="card panel panel-wide" aria-labelledby="addresses-heading">
          <h2 id="addresses-heading">Addresses</h2>
          <dl className="kv">
            <div>
              <dt>Client address</dt>
              <dd className="mono">{status.addresses.client}</dd>
            </div>
            {status.lanAddresses.slice(0, 4).map((a) => (
              <div key={`${a.interface}-${a.address}`}>
                <dt>On {a.interface}</dt>
                <dd>
                  <span className="mono">{a.family === 'IPv6' ? `http://[${a.address}]:${status.clientPort}` : `http://${a.address}:${status.clientPort}`}</span>
                  {status.clientLoopbackOnly && <span className="muted small"> — not open to other devices yet</span>}
                </dd>
              </div>
            ))}
            {status.lanAddresses.length === 0 && (
              <div>
                <dt>Home network</dt>
                <dd className="muted">Not connected to a network</dd>
              </div>
            )}
            <div>
              <dt>Admin pages</dt>
              <dd className="mono">{status.addresses.admin}/_hearth/admin/</dd>
            </div>
          </dl>
        </section>
      </div>
    </>
  );
}
