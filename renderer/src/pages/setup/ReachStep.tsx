/**
 * Step 4: how devices reach Hearth — the detected network addresses and port, and the TLS choice
 * with the fields it needs (shared with the HTTPS page: ../tls/tls-choice.tsx). The choice is
 * applied once the admin exists, on the wizard's last screen (FinishTls.tsx).
 */
import type { TlsMode } from '../../../../server/api/admin/hearth/types.ts';
import { ChoiceCards, Notice, type Choice } from '../../components/ui.tsx';
import { TLS_MODE_CHOICES, TlsModeFields } from '../tls/tls-choice.tsx';
import { chosenServerName, stepProblems, type StepProps } from './model.ts';

const BADGES: Partial<Record<TlsMode, Pick<Choice<TlsMode>, 'badge' | 'tone'>>> = {
  none: { badge: 'Simplest', tone: 'recommended' },
  'acme-dns': { badge: 'Best for phones', tone: 'recommended' },
};
const TLS_CHOICES: Choice<TlsMode>[] = TLS_MODE_CHOICES.map((c) => ({ ...c, ...BADGES[c.value] }));

export function ReachStep({ data, update, setup, showErrors }: StepProps) {
  const lan = setup.lanAddresses ?? [];
  const port = setup.clientPort ?? 8008;
  const v4 = lan.filter((a) => a.family === 'IPv4');
  const serverName = chosenServerName(data, setup);
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
        value={data.tls.mode}
        onChange={(mode) => update({ tls: { ...data.tls, mode } })}
        choices={TLS_CHOICES}
        help="HTTPS encrypts everything between your devices and Hearth. Hearth sets it up when you finish; you can change it later on the HTTPS page."
      />
      <div className="tls-fields">
        <TlsModeFields
          draft={data.tls}
          update={(p) => update({ tls: { ...data.tls, ...p } })}
          serverName={serverName}
          errors={showErrors ? stepProblems('reach', data, setup) : undefined}
        />
      </div>
    </>
  );
}
