import type { TlsMode } from '../../../../server/api/admin/hearth/types.ts';
import { ChoiceCards, Notice, type Choice } from '../../components/ui.tsx';
import type { StepProps } from './model.ts';

const TLS_CHOICES: Choice<TlsMode>[] = [
  {
    value: 'none',
    title: 'No encryption in transit (home network only)',
    badge: 'Works today',
    tone: 'recommended',
    description:
      'Fine for computers on your home Wi-Fi using Element Desktop. Traffic between devices and Hearth is not encrypted, so anyone on your network could read it, and Element on iPhone and Android will refuse to connect.',
  },
  {
    value: 'self-signed',
    title: 'A certificate made by Hearth',
    badge: 'Coming soon',
    tone: 'soon',
    description: 'Encrypts traffic at home. Each phone must install Hearth’s certificate once; we’ll show the steps.',
  },
  {
    value: 'acme-http',
    title: 'Let’s Encrypt, through your router',
    badge: 'Coming soon',
    tone: 'soon',
    description: 'A free, trusted certificate for a domain you own. Your router must forward port 80 to this computer.',
  },
  {
    value: 'acme-dns',
    title: 'Let’s Encrypt, with a dynamic-DNS service',
    badge: 'Coming soon',
    tone: 'soon',
    description: 'A trusted certificate even if Hearth is only reachable at home — what Element X on Android needs. Uses a service such as deSEC or DuckDNS.',
  },
  {
    value: 'files',
    title: 'Certificate files I already have',
    badge: 'Coming soon',
    tone: 'soon',
    description: 'Use a certificate and private key you got elsewhere.',
  },
  {
    value: 'proxy',
    title: 'A reverse proxy or tunnel handles it',
    badge: 'Coming soon',
    tone: 'soon',
    description: 'For setups where nginx, Caddy or a tunnel sits in front of Hearth and provides HTTPS.',
  },
];

export function ReachStep({ data, update, setup }: StepProps) {
  const lan = setup.lanAddresses ?? [];
  const port = setup.clientPort ?? 8008;
  const v4 = lan.filter((a) => a.family === 'IPv4');
  return (
    <>
      <section aria-labelledby="reach-addresses">
        <h3 id="reach-addresses">Addresses on your network</h3>
        {lan.length === 0 ? (
          <Notice tone="warning" title="No network found">
            This computer doesn’t seem to be connected to a network right now. Devices can connect once it is; the dashboard will show the
            address.
          </Notice>
        ) : (
          <>
            <p>Phones and computers at home will connect to one of these addresses:</p>
            <ul className="address-list">
              {(v4.length > 0 ? v4 : lan).map((a) => (
                <li key={`${a.interface}-${a.address}`}>
                  <span className="mono">{a.family === 'IPv6' ? `http://[${a.address}]:${port}` : `http://${a.address}:${port}`}</span>
                  <span className="muted"> on {a.interface}</span>
                </li>
              ))}
            </ul>
          </>
        )}
        {setup.clientLoopbackOnly && (
          <Notice tone="info" title="Right now only this computer can connect">
            Hearth was started to accept connections from this computer only. To let other devices in, start it with{' '}
            <code>--listen 0.0.0.0:{port}</code>.
          </Notice>
        )}
      </section>
      <ChoiceCards
        legend="How should connections be protected?"
        name="tls"
        value={data.tlsMode}
        onChange={(v) => update({ tlsMode: v })}
        choices={TLS_CHOICES}
        help="HTTPS encrypts everything between your devices and Hearth. Choices marked “coming soon” are saved now and take effect in a later version; until then Hearth uses plain HTTP."
      />
    </>
  );
}
