/**
 * The wizard's last screen when a TLS mode was chosen: the server and the admin exist now, so the
 * choice is applied with the admin's new session through the HTTPS page's API (PUT /tls, or the
 * import of certificate files; ../tls/tls-choice.tsx). Shows the certificate being served, the CA
 * download and phone steps for Hearth's own certificate, Let's Encrypt's progress, or the failure
 * in plain words — which can be retried here or fixed later on the HTTPS page.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import type { SetupResponse, StatusResponse } from '../../../../server/api/admin/hearth/types.ts';
import { adminApi } from '../../api/admin.ts';
import { AdminProvider, errorText, useAdmin } from '../../api/context.tsx';
import type { TlsResponse } from '../../api/wire.ts';
import { Button, Loading, Notice } from '../../components/ui.tsx';
import { CertificateSection } from '../tls/TlsPage.tsx';
import { applyTlsDraft, CaDownloadButton, PhoneSteps, TLS_MODE_TITLE, lines, type TlsDraft } from '../tls/tls-choice.tsx';

/** How often Let's Encrypt's progress is checked while the wizard waits. */
const POLL_MS = 2000;

type State = { kind: 'applying' } | { kind: 'failed'; message: string } | { kind: 'done'; tls: TlsResponse };

export function FinishTls(props: { setup: SetupResponse; draft: TlsDraft; onDone: (notes: string[]) => void }) {
  const { setup } = props;
  const admin = useMemo(
    () => ({
      session: { userId: setup.user_id, accessToken: setup.access_token, deviceId: setup.device_id },
      token: setup.access_token,
      serverName: setup.server_name,
      // The session was made a moment ago; the dashboard handles an ended one.
      onExpired: () => undefined,
    }),
    [setup],
  );
  return (
    <AdminProvider value={admin}>
      <FinishBody draft={props.draft} onDone={props.onDone} />
    </AdminProvider>
  );
}

function FinishBody({ draft, onDone }: { draft: TlsDraft; onDone: (notes: string[]) => void }) {
  const { token } = useAdmin();
  const [state, setState] = useState<State>({ kind: 'applying' });
  const [status, setStatus] = useState<StatusResponse>();
  const heading = useRef<HTMLHeadingElement>(null);
  const attempt = useRef(0);

  const apply = async (): Promise<void> => {
    const mine = ++attempt.current;
    setState({ kind: 'applying' });
    try {
      const tls = await applyTlsDraft(token, draft);
      if (mine === attempt.current) setState({ kind: 'done', tls });
      setStatus(await adminApi.status(token).catch(() => undefined));
    } catch (e) {
      if (mine === attempt.current) setState({ kind: 'failed', message: errorText(e) });
    }
  };

  // Once (StrictMode mounts twice in development; the second run supersedes the first).
  useEffect(() => {
    void apply();
    heading.current?.focus();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // Let's Encrypt answers in the background: follow it while the person is here.
  const waiting = state.kind === 'done' && state.tls.busy;
  useEffect(() => {
    if (!waiting) return;
    const t = setTimeout(() => {
      adminApi.tls(token).then((tls) => setState({ kind: 'done', tls }), () => undefined);
    }, POLL_MS);
    return () => clearTimeout(t);
  }, [waiting, state, token]);

  const failure = state.kind === 'failed' ? state.message : state.kind === 'done' ? state.tls.lastError : null;
  const notes = failure ? [`HTTPS (${TLS_MODE_TITLE[draft.mode]}) isn’t working yet: ${failure} You can fix this on the HTTPS page.`] : [];

  return (
    <div className="card wizard-card finish-card" aria-labelledby="finish-heading">
      <h1 id="finish-heading" ref={heading} tabIndex={-1}>
        Hearth is set up
      </h1>
      <div className="step-body">
        <p>
          Your server and admin account are ready. Now Hearth turns on HTTPS as you chose: <strong>{TLS_MODE_TITLE[draft.mode]}</strong>.
        </p>
        {state.kind === 'applying' && <Loading label="Turning on HTTPS…" />}
        {state.kind === 'failed' && (
          <Notice tone="error" title="HTTPS isn’t on yet" live>
            <p>{state.message}</p>
            <p>Everything else is ready. Try again, or open the dashboard and fix it later on the HTTPS page.</p>
          </Notice>
        )}
        {state.kind === 'done' && <Outcome tls={state.tls} draft={draft} httpsUrl={status?.addresses.federation} statusKnown={status !== undefined} />}
      </div>
      <div className="actions">
        {state.kind === 'failed' ? (
          <Button kind="secondary" onClick={() => void apply()}>
            Try again
          </Button>
        ) : (
          <span />
        )}
        <Button onClick={() => onDone(notes)} disabled={state.kind === 'applying'}>
          Open the dashboard
        </Button>
      </div>
    </div>
  );
}

function Outcome({ tls, draft, httpsUrl, statusKnown }: { tls: TlsResponse; draft: TlsDraft; httpsUrl?: string; statusKnown: boolean }) {
  const noPort = statusKnown && !httpsUrl && tls.mode !== 'proxy' && (
    <Notice tone="info" title="No HTTPS port is open yet">
      The certificate is ready. Hearth serves it once started with <code>--federation-listen 0.0.0.0:8448</code> (or another port).
    </Notice>
  );
  if (tls.mode === 'proxy') {
    return (
      <Notice tone="success" title="Ready for your proxy" live>
        Hearth serves plain HTTP behind the proxy and trusts its forwarded-for header only from {lines(draft.proxies).join(', ')}.
      </Notice>
    );
  }
  return (
    <div className="stack">
      {!tls.lastError && !tls.busy && !tls.temporary && (
        <Notice tone="success" title="HTTPS is on" live>
          {tls.mode === 'self-signed'
            ? 'Hearth made its own certificate and is using it.'
            : tls.mode === 'files'
              ? 'Hearth checked your certificate and is using it.'
              : 'Let’s Encrypt issued a certificate, and Hearth is using it. It renews by itself.'}
        </Notice>
      )}
      {noPort}
      <CertificateSection tls={tls} httpsUrl={httpsUrl} />
      {tls.mode === 'self-signed' && (
        <section className="card panel section" aria-labelledby="phones-heading">
          <h2 id="phones-heading">Let phones trust it</h2>
          <p className="section-intro">Each phone installs Hearth’s certificate authority (CA) once. You can also do this later from the HTTPS page.</p>
          <PhoneSteps />
          <div className="form-actions">
            <CaDownloadButton disabled={!tls.caCertificate} />
          </div>
        </section>
      )}
    </div>
  );
}
