import { describeTlsDraft } from '../tls/tls-choice.tsx';
import { chosenServerName, type StepId, type StepProps } from './model.ts';

const REGISTRATION_LABEL = {
  closed: 'Only you create accounts',
  token: 'People with an invite code',
  captcha: 'Anyone who passes a CAPTCHA',
  open: 'Anyone',
} as const;

export function SummaryStep({ data, setup, goTo }: StepProps) {
  const name = chosenServerName(data, setup);
  const rows: { label: string; value: string; step: StepId; mono?: boolean; fixed?: boolean }[] = [
    { label: 'Server name', value: name, step: 'name', mono: true, fixed: true },
    { label: 'Admin account', value: `@${data.username.trim()}:${name}`, step: 'admin', mono: true },
    { label: 'Connections', value: describeTlsDraft(data.tls, name), step: 'reach' },
    { label: 'New accounts', value: REGISTRATION_LABEL[data.registration], step: 'registration' },
    { label: 'Other servers', value: data.federationEnabled ? 'Connect to other servers' : 'Just this server', step: 'federation' },
  ];
  return (
    <>
      <p>Check your answers. Everything except the server name can be changed later in Settings.</p>
      <dl className="summary">
        {rows.map((r) => (
          <div key={r.label} className="summary-row">
            <dt>{r.label}</dt>
            <dd className={r.mono ? 'mono' : undefined}>
              {r.value}
              {r.fixed && <span className="badge badge-caution">Permanent</span>}
            </dd>
            <dd className="summary-action">
              {!(r.step === 'name' && setup.serverNameLocked) && (
                <button type="button" className="link-button" onClick={() => goTo(r.step)} aria-label={`Change ${r.label.toLowerCase()}`}>
                  Change
                </button>
              )}
            </dd>
          </div>
        ))}
      </dl>
    </>
  );
}
