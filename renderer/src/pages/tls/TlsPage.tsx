/**
 * HTTPS & certificates: the mode, the certificate being served (subject, names, expiry,
 * fingerprint), and the actions of each mode — make a new self-signed certificate and download
 * Hearth's CA for phones, request or renew from Let's Encrypt, import certificate files. The mode
 * form is shared with the setup wizard (tls-choice.tsx). Data from /_hearth/api/v1/tls
 * (server/api/admin/hearth/tls.ts).
 */
import { useState, type FormEvent } from 'react';
import { adminApi } from '../../api/admin.ts';
import { useAction, useAdmin, useLoad } from '../../api/context.tsx';
import type { CertificateInfo, TlsResponse } from '../../api/wire.ts';
import { daysUntil, formatDate, formatDateTime } from '../../components/format.ts';
import { EmptyState, PageHeader, Pill, Section } from '../../components/page.tsx';
import { ActionFeedback, Button, ChoiceCards, LoadState, Notice, SaveFooter } from '../../components/ui.tsx';
import { applyTlsDraft, CaDownloadButton, PhoneSteps, TLS_MODE_CHOICES, TlsModeFields, tlsDraft, tlsDraftProblems, type TlsDraft } from './tls-choice.tsx';

export function TlsPage() {
  const { serverName = '' } = useAdmin();
  const tls = useLoad((t) => adminApi.tls(t), []);
  const status = useLoad((t) => adminApi.status(t), []);
  const settings = useLoad((t) => adminApi.settings(t), []);
  return (
    <>
      <PageHeader title="HTTPS & certificates" intro="How phones and computers reach Hearth securely, and the certificate that proves it is really your server." />
      <LoadState load={tls} label="Loading the certificate…" errorTitle="Couldn’t load the TLS settings" errorOnlyWhenEmpty>
        {(data) => (
          <div className="stack">
            {status.data && !status.data.addresses.federation && data.mode !== 'none' && data.mode !== 'proxy' && (
              <Notice tone="info" title="No HTTPS port is open yet">
                Hearth keeps the certificate ready, and serves it once started with <code>--federation-listen 0.0.0.0:8448</code> (or another port).
              </Notice>
            )}
            <CertificateSection tls={data} httpsUrl={status.data?.addresses.federation} />
            <ModeActions tls={data} onChanged={tls.setData} />
            <ModeSection tls={data} pinned={settings.data?.overridden.includes('tlsMode') ?? false} serverName={serverName} onChanged={tls.setData} />
          </div>
        )}
      </LoadState>
    </>
  );
}

/** The certificate being served (also on the wizard's last screen). */
export function CertificateSection({ tls, httpsUrl }: { tls: TlsResponse; httpsUrl?: string }) {
  const cert = tls.certificate;
  return (
    <Section title="Certificate in use" actions={cert && <ExpiryPill cert={cert} />}>
      {tls.lastError && (
        <Notice tone="error" title="The last attempt failed">
          {tls.lastError}
        </Notice>
      )}
      {tls.busy && (
        <Notice tone="info" title="Asking Let’s Encrypt…" live>
          This usually takes under a minute.
        </Notice>
      )}
      {tls.temporary && (
        <Notice tone="warning" title="Temporary certificate">
          Hearth serves a temporary self-signed certificate until Let’s Encrypt issues the real one.
        </Notice>
      )}
      {!cert ? (
        <EmptyState title={tls.mode === 'none' ? 'HTTPS is off' : tls.mode === 'proxy' ? 'Your proxy provides the certificate' : 'No certificate yet'} icon="tls">
          {tls.mode === 'none' ? 'Choose how Hearth gets a certificate below.' : tls.mode === 'proxy' ? 'Hearth itself serves plain HTTP behind it.' : 'Use the action above to get one.'}
        </EmptyState>
      ) : (
        <dl className="kv">
          <div>
            <dt>Issued to</dt>
            <dd className="mono" data-testid="cert-subject">
              {cert.subject}
            </dd>
          </div>
          <div>
            <dt>Valid for</dt>
            <dd>
              <ul className="name-list">
                {cert.names.map((n) => (
                  <li key={n} className="mono">
                    {n}
                  </li>
                ))}
              </ul>
            </dd>
          </div>
          <div>
            <dt>Issued by</dt>
            <dd className="mono">{cert.issuer}</dd>
          </div>
          <div>
            <dt>Valid</dt>
            <dd>
              {formatDate(cert.notBefore)} to {formatDateTime(cert.notAfter)}
            </dd>
          </div>
          {tls.renewAfter && (
            <div>
              <dt>Renews</dt>
              <dd>Automatically after {formatDate(tls.renewAfter)}</dd>
            </div>
          )}
          <div>
            <dt>SHA-256 fingerprint</dt>
            <dd className="mono small fingerprint" data-testid="cert-fingerprint">
              {cert.fingerprintSha256}
            </dd>
          </div>
          {httpsUrl && (
            <div>
              <dt>Served at</dt>
              <dd className="mono">{httpsUrl}</dd>
            </div>
          )}
        </dl>
      )}
    </Section>
  );
}

function ExpiryPill({ cert }: { cert: CertificateInfo }) {
  const days = daysUntil(cert.notAfter);
  if (days < 0) return <Pill tone="bad">Expired</Pill>;
  if (days < 14) return <Pill tone="bad">Expires in {days} days</Pill>;
  if (days < 30) return <Pill tone="warn">Expires in {days} days</Pill>;
  return <Pill tone="ok">Valid for {days} more days</Pill>;
}

/** What the current mode can do now. */
function ModeActions({ tls, onChanged }: { tls: TlsResponse; onChanged: (t: TlsResponse) => void }) {
  const action = useAction();
  const [done, setDone] = useState<string>();
  const run = (fn: (t: string) => Promise<TlsResponse>, message: string): void => {
    setDone(undefined);
    void action.run(fn).then((r) => {
      if (!r) return;
      onChanged(r);
      setDone(message);
    });
  };
  const feedback = <ActionFeedback error={action.error} success={done} />;
  switch (tls.mode) {
    case 'self-signed':
      return (
        <Section title="Hearth’s own certificate" intro="Phones and computers trust it once they have installed Hearth’s certificate authority (CA).">
          {feedback}
          <PhoneSteps />
          <div className="form-actions">
            <CaDownloadButton disabled={!tls.caCertificate} />
            <Button kind="secondary" busy={action.busy} onClick={() => run((t) => adminApi.generateSelfSigned(t), 'A new certificate is in use. Phones that installed the CA keep working.')}>
              Make a new certificate
            </Button>
          </div>
        </Section>
      );
    case 'acme-http':
    case 'acme-dns':
      return (
        <Section title="Let’s Encrypt" intro="Hearth renews the certificate by itself 30 days before it expires. You can also ask now.">
          {feedback}
          <div className="form-actions">
            <Button busy={action.busy || tls.busy} onClick={() => run((t) => adminApi.requestAcme(t), 'Let’s Encrypt issued a certificate, and Hearth is using it.')}>
              {tls.certificate && !tls.temporary ? 'Renew now' : 'Request certificate'}
            </Button>
          </div>
        </Section>
      );
    default:
      return null;
  }
}

function ModeSection({ tls, pinned, serverName, onChanged }: { tls: TlsResponse; pinned: boolean; serverName: string; onChanged: (t: TlsResponse) => void }) {
  const [draft, setDraft] = useState<TlsDraft>(() => tlsDraft(tls.mode, tls));
  const [showErrors, setShowErrors] = useState(false);
  const [saved, setSaved] = useState(false);
  const action = useAction();
  const problems = tlsDraftProblems(draft, { apiToken: tls.settings.acme.dnsApiTokenSet, files: tls.mode === 'files' });

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setSaved(false);
    if (Object.keys(problems).length > 0) return setShowErrors(true);
    const r = await action.run((t) => applyTlsDraft(t, draft));
    if (r) {
      onChanged(r);
      setDraft((d) => ({ ...d, apiToken: '', privateKey: '', certificate: '' }));
      setShowErrors(false);
      setSaved(true);
    }
  };

  return (
    <Section title="How Hearth gets its certificate">
      <form onSubmit={(e) => void submit(e)} noValidate>
        {pinned && (
          <Notice tone="warning" title="Set when Hearth was started">
            A command-line flag or the settings file chooses the mode, so a change here has no effect until it is removed there.
          </Notice>
        )}
        <ChoiceCards legend="TLS mode" hideLegend name="tls-mode" value={draft.mode} onChange={(mode) => (setDraft((d) => ({ ...d, mode })), setSaved(false))} choices={TLS_MODE_CHOICES} />
        <TlsModeFields
          draft={draft}
          update={(p) => (setDraft((d) => ({ ...d, ...p })), setSaved(false))}
          serverName={serverName}
          errors={showErrors ? problems : undefined}
          hookAvailable={tls.settings.acme.dnsHookCommandSet}
          apiTokenSaved={tls.settings.acme.dnsApiTokenSet}
        />
        <SaveFooter action={action} success={saved && 'Saved. Hearth uses the new setting now.'} label={draft.mode === 'files' && draft.certificate.trim() ? 'Import and use' : 'Save'} />
      </form>
    </Section>
  );
}
