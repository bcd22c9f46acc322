/**
 * HTTPS & certificates: the mode, the certificate being served (subject, names, expiry,
 * fingerprint), and the actions of each mode — make a new self-signed certificate and download
 * Hearth's CA for phones, request or renew from Let's Encrypt, import certificate files.
 * Data from /_hearth/api/v1/tls (server/api/admin/hearth/tls.ts).
 */
import { useState, type FormEvent } from 'react';
import type { TlsMode } from '../../../../server/api/admin/hearth/types.ts';
import { adminApi } from '../../api/admin.ts';
import { useAction, useLoad } from '../../api/context.tsx';
import type { CertificateInfo, TlsResponse, TlsUpdate } from '../../api/wire.ts';
import { daysUntil, formatDate, formatDateTime } from '../../components/format.ts';
import { EmptyState, PageHeader, Pill, Section, SelectField, TextArea } from '../../components/page.tsx';
import { Button, ChoiceCards, ErrorState, Loading, Notice, TextField, type Choice } from '../../components/ui.tsx';

const MODES: Choice<TlsMode>[] = [
  { value: 'none', title: 'No HTTPS (home network only)', description: 'Traffic is not encrypted. Element Desktop works; phone apps refuse to connect.' },
  { value: 'self-signed', title: 'A certificate made by Hearth', description: 'Encrypts traffic at home. Each phone installs Hearth’s certificate once.' },
  { value: 'acme-http', title: 'Let’s Encrypt, through your router', description: 'A free, trusted certificate for a domain you own. Your router forwards port 80 to this computer.' },
  { value: 'acme-dns', title: 'Let’s Encrypt, with a dynamic-DNS service', description: 'A trusted certificate even if Hearth is only reachable at home. Uses deSEC or DuckDNS.' },
  { value: 'files', title: 'Certificate files I already have', description: 'A certificate and private key you got elsewhere.' },
  { value: 'proxy', title: 'A reverse proxy or tunnel handles it', description: 'nginx, Caddy or a tunnel in front of Hearth provides HTTPS.' },
];

const lines = (s: string): string[] =>
  s
    .split(/[\n,]/)
    .map((x) => x.trim())
    .filter(Boolean);

export function TlsPage() {
  const tls = useLoad((t) => adminApi.tls(t), []);
  const status = useLoad((t) => adminApi.status(t), []);
  const settings = useLoad((t) => adminApi.settings(t), []);
  const data = tls.data;
  return (
    <>
      <PageHeader title="HTTPS & certificates" intro="How phones and computers reach Hearth securely, and the certificate that proves it is really your server." />
      {!data && tls.loading && <Loading label="Loading the certificate…" />}
      {tls.error && !data && <ErrorState title="Couldn’t load the TLS settings" message={tls.error} onRetry={() => void tls.reload()} />}
      {data && (
        <div className="stack">
          {status.data && !status.data.addresses.federation && data.mode !== 'none' && data.mode !== 'proxy' && (
            <Notice tone="info" title="No HTTPS port is open yet">
              Hearth keeps the certificate ready, and serves it once started with <code>--federation-listen 0.0.0.0:8448</code> (or another port).
            </Notice>
          )}
          <CertificateSection tls={data} httpsUrl={status.data?.addresses.federation} />
          <ModeActions tls={data} onChanged={tls.setData} />
          <ModeSection tls={data} pinned={settings.data?.overridden.includes('tlsMode') ?? false} onChanged={tls.setData} />
        </div>
      )}
    </>
  );
}

function CertificateSection({ tls, httpsUrl }: { tls: TlsResponse; httpsUrl?: string }) {
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
  const downloadCa = async (): Promise<void> => {
    const blob = await action.run((t) => adminApi.caCertificate(t));
    if (!blob) return;
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = 'hearth-ca.crt';
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };
  const feedback = (
    <>
      {action.error && (
        <Notice tone="error" live>
          {action.error}
        </Notice>
      )}
      {done && (
        <Notice tone="success" live>
          {done}
        </Notice>
      )}
    </>
  );
  switch (tls.mode) {
    case 'self-signed':
      return (
        <Section title="Hearth’s own certificate" intro="Phones and computers trust it once they have installed Hearth’s certificate authority (CA).">
          {feedback}
          <ol className="steps-list">
            <li>Download Hearth’s CA certificate and send it to the phone (for example by email or a USB cable).</li>
            <li>
              <strong>Android:</strong> Settings → Security → Encryption &amp; credentials → Install a certificate → CA certificate.{' '}
              <strong>iPhone:</strong> open the file, then Settings → General → VPN &amp; Device Management to install it, and turn it on under About → Certificate Trust Settings.
            </li>
            <li>Connect to the server’s https:// address.</li>
          </ol>
          <div className="form-actions">
            <Button kind="secondary" busy={action.busy} disabled={!tls.caCertificate} onClick={() => void downloadCa()}>
              Download CA certificate
            </Button>
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
    case 'files':
      return <ImportSection onChanged={onChanged} />;
    default:
      return null;
  }
}

function ImportSection({ onChanged }: { onChanged: (t: TlsResponse) => void }) {
  const [cert, setCert] = useState('');
  const [key, setKey] = useState('');
  const [done, setDone] = useState(false);
  const action = useAction();
  const readFile = (set: (v: string) => void) => (e: React.ChangeEvent<HTMLInputElement>) => {
    const f = e.target.files?.[0];
    if (f) void f.text().then(set);
  };
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setDone(false);
    const r = await action.run((t) => adminApi.importCertificate(t, cert, key));
    if (r) {
      onChanged(r);
      setDone(true);
      setKey('');
    }
  };
  return (
    <Section title="Import certificate files" intro="PEM files: the certificate (with its chain) and its private key. Choose the files, or paste their contents.">
      <form onSubmit={(e) => void submit(e)} noValidate>
        <div className="two-up">
          <div>
            <FileInput label="Certificate file" accept=".pem,.crt,.cer" onChange={readFile(setCert)} />
            <TextArea label="Certificate (PEM)" value={cert} onChange={setCert} mono rows={6} placeholder="-----BEGIN CERTIFICATE-----" />
          </div>
          <div>
            <FileInput label="Private key file" accept=".pem,.key" onChange={readFile(setKey)} />
            <TextArea label="Private key (PEM)" value={key} onChange={setKey} mono rows={6} placeholder="-----BEGIN PRIVATE KEY-----" />
          </div>
        </div>
        {action.error && (
          <Notice tone="error" live>
            {action.error}
          </Notice>
        )}
        {done && (
          <Notice tone="success" live>
            Imported. Hearth serves the new certificate now.
          </Notice>
        )}
        <div className="form-actions">
          <Button type="submit" busy={action.busy} disabled={!cert.trim() || !key.trim()}>
            Import
          </Button>
        </div>
      </form>
    </Section>
  );
}

function FileInput(props: { label: string; accept: string; onChange: (e: React.ChangeEvent<HTMLInputElement>) => void }) {
  return (
    <div className="field">
      <label className="field-label">
        {props.label}
        <input type="file" className="file-input" accept={props.accept} onChange={props.onChange} />
      </label>
    </div>
  );
}

function ModeSection({ tls, pinned, onChanged }: { tls: TlsResponse; pinned: boolean; onChanged: (t: TlsResponse) => void }) {
  const a = tls.settings.acme;
  const [mode, setMode] = useState<TlsMode>(tls.mode);
  const [names, setNames] = useState(tls.settings.selfSignedNames.join('\n'));
  const [proxies, setProxies] = useState(tls.settings.trustedProxies.join('\n'));
  const [email, setEmail] = useState(a.email ?? '');
  const [domains, setDomains] = useState(a.domains.join('\n'));
  const [port, setPort] = useState(a.challengePort ? String(a.challengePort) : '');
  const [provider, setProvider] = useState<'desec' | 'duckdns' | 'hook'>(a.dnsProvider ?? 'desec');
  const [apiToken, setApiToken] = useState('');
  const [zone, setZone] = useState(a.dnsZone ?? '');
  const [saved, setSaved] = useState(false);
  const action = useAction();

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setSaved(false);
    const body: TlsUpdate = { mode };
    if (mode === 'self-signed') body.selfSignedNames = lines(names);
    if (mode === 'proxy') body.trustedProxies = lines(proxies);
    if (mode === 'acme-http' || mode === 'acme-dns') {
      body.acme = { email: email.trim() || null, domains: lines(domains).length ? lines(domains) : null };
      if (mode === 'acme-http') body.acme.challengePort = port.trim() ? Number(port) : null;
      if (mode === 'acme-dns') {
        body.acme.dnsProvider = provider;
        body.acme.dnsZone = zone.trim() || null;
        if (apiToken.trim()) body.acme.dnsApiToken = apiToken.trim();
      }
    }
    const r = await action.run((t) => adminApi.updateTls(t, body));
    if (r) {
      onChanged(r);
      setApiToken('');
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
        <ChoiceCards legend="TLS mode" hideLegend name="tls-mode" value={mode} onChange={(v) => (setMode(v), setSaved(false))} choices={MODES} />
        {mode === 'none' && (
          <Notice tone="warning" title="What this means">
            Messages, passwords and files cross your network unencrypted. Anyone on the same Wi-Fi could read them.
          </Notice>
        )}
        {mode === 'self-signed' && (
          <TextArea
            label="Extra names and addresses (optional)"
            value={names}
            onChange={setNames}
            rows={3}
            mono
            help="The server name and this computer’s network addresses are always included. One per line."
          />
        )}
        {(mode === 'acme-http' || mode === 'acme-dns') && (
          <>
            <div className="two-up">
              <TextField label="Email for expiry notices" type="email" value={email} onChange={setEmail} autoComplete="email" />
              {mode === 'acme-http' ? (
                <TextField label="Challenge port" value={port} onChange={setPort} inputMode="numeric" placeholder="80" help="If your router forwards port 80 to another port here." />
              ) : (
                <SelectField
                  label="Dynamic-DNS service"
                  value={provider}
                  onChange={setProvider}
                  options={[
                    { value: 'desec', label: 'deSEC (desec.io)' },
                    { value: 'duckdns', label: 'DuckDNS (duckdns.org)' },
                    ...(a.dnsHookCommandSet ? [{ value: 'hook' as const, label: 'My own hook command' }] : []),
                  ]}
                />
              )}
            </div>
            <TextArea label="Names on the certificate" value={domains} onChange={setDomains} rows={2} mono help="Default: the server name. One per line." />
            {mode === 'acme-dns' && provider !== 'hook' && (
              <div className="two-up">
                <TextField
                  label="API token"
                  type="password"
                  value={apiToken}
                  onChange={setApiToken}
                  placeholder={a.dnsApiTokenSet ? 'Saved — type to replace' : ''}
                  help="From your dynamic-DNS account; it lets Hearth set the TXT record."
                  autoComplete="off"
                />
                {provider === 'desec' && <TextField label="deSEC domain (optional)" value={zone} onChange={setZone} help="If different from the certificate name." />}
              </div>
            )}
          </>
        )}
        {mode === 'proxy' && (
          <TextArea
            label="Addresses of the proxy"
            value={proxies}
            onChange={setProxies}
            rows={3}
            mono
            help="Hearth believes the forwarded-for header only from these addresses or ranges (for example 127.0.0.1 or 10.0.0.0/8). One per line."
          />
        )}
        {action.error && (
          <Notice tone="error" live>
            {action.error}
          </Notice>
        )}
        {saved && (
          <Notice tone="success" live>
            Saved. Hearth uses the new setting now.
          </Notice>
        )}
        <div className="form-actions">
          <Button type="submit" busy={action.busy}>
            Save
          </Button>
        </div>
      </form>
    </Section>
  );
}
