/**
 * The TLS choice shared by the setup wizard (setup/ReachStep.tsx, setup/FinishTls.tsx) and the
 * HTTPS page (TlsPage.tsx): the modes, the fields each mode asks for, their checks, how a choice
 * becomes requests to /_hearth/api/v1/tls (server/api/admin/hearth/tls.ts), and the steps and CA
 * download for phones when Hearth makes its own certificate.
 */
import { adminApi } from '../../api/admin.ts';
import { useAction } from '../../api/context.tsx';
import type { DnsProviderName, TlsMode, TlsResponse, TlsUpdate } from '../../api/wire.ts';
import { SelectField, TextArea } from '../../components/page.tsx';
import { ActionFeedback, Button, Notice, TextField, type Choice } from '../../components/ui.tsx';
import './tls.css';

/** What the person typed for each mode; only the chosen mode's fields are sent. */
export interface TlsDraft {
  mode: TlsMode;
  /** Extra names for the self-signed certificate, one per line. */
  names: string;
  proxies: string;
  email: string;
  domains: string;
  port: string;
  provider: DnsProviderName;
  apiToken: string;
  zone: string;
  /** PEM contents for 'files' (chosen with a file picker or pasted). */
  certificate: string;
  privateKey: string;
}

export const TLS_MODE_CHOICES: Choice<TlsMode>[] = [
  {
    value: 'none',
    title: 'No HTTPS (home network only)',
    description: 'Fine for computers at home using Element Desktop. Traffic is not encrypted, and the phone apps refuse to connect.',
  },
  {
    value: 'self-signed',
    title: 'A certificate made by Hearth',
    description: 'Encrypts traffic at home. Each phone installs Hearth’s certificate once; we show the steps.',
  },
  {
    value: 'acme-http',
    title: 'Let’s Encrypt, through your router',
    description: 'A free, trusted certificate for a domain you own. Your router forwards port 80 to this computer.',
  },
  {
    value: 'acme-dns',
    title: 'Let’s Encrypt, with a dynamic-DNS service',
    description: 'A trusted certificate even if Hearth is only reachable at home — what Element X on Android needs. Uses deSEC or DuckDNS.',
  },
  { value: 'files', title: 'Certificate files I already have', description: 'A certificate and private key you got elsewhere.' },
  { value: 'proxy', title: 'A reverse proxy or tunnel handles it', description: 'nginx, Caddy or a tunnel in front of Hearth provides HTTPS.' },
];

export const TLS_MODE_TITLE = Object.fromEntries(TLS_MODE_CHOICES.map((c) => [c.value, c.title])) as Record<TlsMode, string>;

const PROVIDER_LABEL: Record<DnsProviderName, string> = { desec: 'deSEC (desec.io)', duckdns: 'DuckDNS (duckdns.org)', hook: 'My own hook command' };

export const lines = (s: string): string[] =>
  s
    .split(/[\n,]/)
    .map((x) => x.trim())
    .filter(Boolean);

/** A draft holding the stored settings (or nothing, before setup). */
export function tlsDraft(mode: TlsMode, tls?: TlsResponse): TlsDraft {
  const s = tls?.settings;
  return {
    mode,
    names: s?.selfSignedNames.join('\n') ?? '',
    proxies: s?.trustedProxies.join('\n') ?? '',
    email: s?.acme.email ?? '',
    domains: s?.acme.domains.join('\n') ?? '',
    port: s?.acme.challengePort ? String(s.acme.challengePort) : '',
    provider: s?.acme.dnsProvider ?? 'desec',
    apiToken: '',
    zone: s?.acme.dnsZone ?? '',
    certificate: '',
    privateKey: '',
  };
}

const IP_OR_CIDR = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f:]*:[0-9a-f:.]*)(?:\/\d{1,3})?$/i;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * What keeps the draft from being applied, by field. `has` says what the server already holds:
 * a saved DNS token, imported files (then the fields may stay empty).
 */
export function tlsDraftProblems(d: TlsDraft, has: { apiToken?: boolean; files?: boolean } = {}): Partial<Record<keyof TlsDraft, string>> {
  const p: Partial<Record<keyof TlsDraft, string>> = {};
  if (d.mode === 'acme-http' || d.mode === 'acme-dns') {
    if (d.email.trim() && !EMAIL.test(d.email.trim())) p.email = 'That doesn’t look like an email address.';
    const bad = lines(d.domains).find((n) => !/^[a-z0-9*]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i.test(n));
    if (bad) p.domains = `“${bad}” is not a domain name.`;
  }
  if (d.mode === 'acme-http' && d.port.trim()) {
    const n = Number(d.port.trim());
    if (!Number.isInteger(n) || n < 1 || n > 65535) p.port = 'A port is a whole number from 1 to 65535.';
  }
  if (d.mode === 'acme-dns' && d.provider !== 'hook' && !d.apiToken.trim() && !has.apiToken) p.apiToken = 'Paste the API token from your dynamic-DNS account.';
  if (d.mode === 'files' && !has.files) {
    if (!d.certificate.trim()) p.certificate = 'Choose the certificate file, or paste it.';
    if (!d.privateKey.trim()) p.privateKey = 'Choose the private key file, or paste it.';
  }
  if (d.mode === 'proxy') {
    const list = lines(d.proxies);
    if (list.length === 0) p.proxies = 'Give the address of the proxy (for example 127.0.0.1).';
    const bad = list.find((a) => !IP_OR_CIDR.test(a));
    if (bad) p.proxies = `“${bad}” is not an IP address or range.`;
  }
  return p;
}

/** The PUT /tls body for the draft: the chosen mode and only its settings. */
export function tlsUpdate(d: TlsDraft): TlsUpdate {
  const body: TlsUpdate = { mode: d.mode };
  if (d.mode === 'self-signed') body.selfSignedNames = lines(d.names);
  if (d.mode === 'proxy') body.trustedProxies = lines(d.proxies);
  if (d.mode === 'acme-http' || d.mode === 'acme-dns') {
    body.acme = { email: d.email.trim() || null, domains: lines(d.domains).length ? lines(d.domains) : null };
    if (d.mode === 'acme-http') body.acme.challengePort = d.port.trim() ? Number(d.port) : null;
    if (d.mode === 'acme-dns') {
      body.acme.dnsProvider = d.provider;
      body.acme.dnsZone = d.zone.trim() || null;
      if (d.apiToken.trim()) body.acme.dnsApiToken = d.apiToken.trim();
    }
  }
  return body;
}

/**
 * Applies the draft: files are imported (which also selects the mode), anything else is one PUT.
 * Self-signed makes its certificate when there is none; Let's Encrypt starts asking in the background.
 */
export function applyTlsDraft(token: string, d: TlsDraft): Promise<TlsResponse> {
  if (d.mode === 'files' && d.certificate.trim() && d.privateKey.trim()) return adminApi.importCertificate(token, d.certificate, d.privateKey);
  return adminApi.updateTls(token, tlsUpdate(d));
}

/** One line describing the draft, for the wizard's summary. */
export function describeTlsDraft(d: TlsDraft, serverName: string): string {
  const names = lines(d.domains).length ? lines(d.domains).join(', ') : serverName;
  switch (d.mode) {
    case 'acme-http':
      return `Let’s Encrypt for ${names}, through port ${d.port.trim() || '80'}${d.email.trim() ? `; notices to ${d.email.trim()}` : ''}`;
    case 'acme-dns':
      return `Let’s Encrypt for ${names}, with ${PROVIDER_LABEL[d.provider].replace(/ \(.*\)/, '')}${d.email.trim() ? `; notices to ${d.email.trim()}` : ''}`;
    case 'proxy':
      return `A reverse proxy at ${lines(d.proxies).join(', ')}`;
    case 'self-signed':
      return lines(d.names).length ? `A certificate made by Hearth, also for ${lines(d.names).join(', ')}` : TLS_MODE_TITLE[d.mode];
    default:
      return TLS_MODE_TITLE[d.mode];
  }
}

function FieldError(props: { message?: string }) {
  return props.message ? (
    <p className="field-error" role="alert">
      {props.message}
    </p>
  ) : null;
}

/**
 * The fields of the chosen mode. `hookAvailable`: whether a DNS hook command is configured
 * (unknown before setup: the option is then offered with a note). `apiTokenSaved`: a token is stored.
 */
export function TlsModeFields(props: {
  draft: TlsDraft;
  update: (patch: Partial<TlsDraft>) => void;
  serverName: string;
  errors?: Partial<Record<keyof TlsDraft, string>>;
  hookAvailable?: boolean;
  apiTokenSaved?: boolean;
}) {
  const { draft: d, update, errors = {} } = props;
  const readFile = (key: 'certificate' | 'privateKey') => (e: React.ChangeEvent<HTMLInputElement>) => {
    const f = e.target.files?.[0];
    if (f) void f.text().then((text) => update({ [key]: text }));
  };
  const providers = (Object.keys(PROVIDER_LABEL) as DnsProviderName[]).filter((p) => p !== 'hook' || props.hookAvailable !== false);
  switch (d.mode) {
    case 'none':
      return (
        <Notice tone="warning" title="What this means">
          Messages, passwords and files cross your network unencrypted: anyone on the same Wi-Fi could read them. Element on iPhone and Android will not
          connect. You can turn HTTPS on later.
        </Notice>
      );
    case 'self-signed':
      return (
        <TextArea
          label="Extra names and addresses (optional)"
          value={d.names}
          onChange={(names) => update({ names })}
          rows={2}
          mono
          help={`${props.serverName || 'The server name'} and this computer’s network addresses are always included. One per line.`}
        />
      );
    case 'acme-http':
    case 'acme-dns':
      return (
        <div className="mode-fields">
          <TextArea
            label="Domain on the certificate"
            value={d.domains}
            onChange={(domains) => update({ domains })}
            rows={1}
            mono
            placeholder={props.serverName}
            help={`Leave empty to use ${props.serverName || 'the server name'}. It must be a domain you control. One per line.`}
          />
          <FieldError message={errors.domains} />
          <div className="two-up">
            <TextField
              label="Email for expiry notices"
              placeholder="Optional"
              type="email"
              value={d.email}
              onChange={(email) => update({ email })}
              autoComplete="email"
              error={errors.email}
            />
            {d.mode === 'acme-http' ? (
              <TextField
                label="Challenge port"
                value={d.port}
                onChange={(port) => update({ port })}
                inputMode="numeric"
                placeholder="80"
                error={errors.port}
              />
            ) : (
              <SelectField
                label="Dynamic-DNS service"
                value={d.provider}
                onChange={(provider) => update({ provider })}
                options={providers.map((p) => ({ value: p, label: PROVIDER_LABEL[p] }))}
              />
            )}
          </div>
          {d.mode === 'acme-http' && (
            <p className="field-help">
              Let’s Encrypt checks that it reaches this computer on port 80 at that domain. If your router forwards port 80 to another port here, give that
              port. Hearth renews the certificate 30 days before it expires.
            </p>
          )}
          {d.mode === 'acme-dns' && d.provider === 'hook' && (
            <Notice tone="info" title="Your own command">
              Hearth runs the command set as <code>acmeDnsHookCommand</code> in the settings file to publish the TXT record.
            </Notice>
          )}
          {d.mode === 'acme-dns' && d.provider !== 'hook' && (
            <>
              <TextField
                label="API token"
                type="password"
                value={d.apiToken}
                onChange={(apiToken) => update({ apiToken })}
                placeholder={props.apiTokenSaved ? 'Saved — type to replace' : ''}
                help="From your dynamic-DNS account; it lets Hearth set the TXT record that proves the domain is yours."
                autoComplete="off"
                error={errors.apiToken}
              />
              {d.provider === 'desec' && (
                <TextField label="deSEC domain (optional)" value={d.zone} onChange={(zone) => update({ zone })} help="If different from the certificate’s domain." />
              )}
            </>
          )}
        </div>
      );
    case 'files':
      return (
        <div className="two-up">
          <div>
            <FileInput label="Certificate file" accept=".pem,.crt,.cer" onChange={readFile('certificate')} />
            <TextArea label="Certificate (PEM)" value={d.certificate} onChange={(certificate) => update({ certificate })} mono rows={5} placeholder="-----BEGIN CERTIFICATE-----" />
            <FieldError message={errors.certificate} />
          </div>
          <div>
            <FileInput label="Private key file" accept=".pem,.key" onChange={readFile('privateKey')} />
            <TextArea label="Private key (PEM)" value={d.privateKey} onChange={(privateKey) => update({ privateKey })} mono rows={5} placeholder="-----BEGIN PRIVATE KEY-----" />
            <FieldError message={errors.privateKey} />
          </div>
        </div>
      );
    case 'proxy':
      return (
        <>
          <TextArea
            label="Address of the proxy"
            value={d.proxies}
            onChange={(proxies) => update({ proxies })}
            rows={2}
            mono
            placeholder="127.0.0.1"
            help="Hearth believes the forwarded-for header only from these addresses or ranges (for example 127.0.0.1 or 10.0.0.0/8). One per line."
          />
          <FieldError message={errors.proxies} />
        </>
      );
  }
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

/** How a phone comes to trust Hearth's own certificate authority. */
export function PhoneSteps() {
  return (
    <ol className="steps-list">
      <li>Download Hearth’s CA certificate and send it to the phone (for example by email or a USB cable).</li>
      <li>
        <strong>Android:</strong> Settings → Security → Encryption &amp; credentials → Install a certificate → CA certificate.
      </li>
      <li>
        <strong>iPhone:</strong> open the file, then Settings → General → VPN &amp; Device Management to install it, and turn it on under About → Certificate
        Trust Settings.
      </li>
      <li>Connect to the server’s https:// address.</li>
    </ol>
  );
}

/** Downloads Hearth's CA certificate (needs an admin session). */
export function CaDownloadButton(props: { disabled?: boolean }) {
  const action = useAction();
  const download = async (): Promise<void> => {
    const blob = await action.run((t) => adminApi.caCertificate(t));
    if (!blob) return;
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = 'hearth-ca.crt';
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };
  return (
    <>
      <Button kind="secondary" busy={action.busy} disabled={props.disabled} onClick={() => void download()}>
        Download CA certificate
      </Button>
      <ActionFeedback error={action.error} />
    </>
  );
}
