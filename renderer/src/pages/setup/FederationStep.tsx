import { ChoiceCards, Notice } from '../../components/ui.tsx';
import type { StepProps } from './model.ts';
import { isHomeOnlyName } from './validation.ts';

export function FederationStep({ data, update, setup }: StepProps) {
  const name = setup.serverNameLocked ? (setup.serverName ?? '') : data.serverName;
  return (
    <>
      <p>
        Matrix servers can talk to each other, the way email does: someone on matrix.org can message someone on your server. This is
        called federation.
      </p>
      <ChoiceCards
        legend="Should Hearth talk to other servers?"
        hideLegend
        name="federation"
        value={data.federationEnabled ? 'on' : 'off'}
        onChange={(v) => update({ federationEnabled: v === 'on' })}
        choices={[
          {
            value: 'off',
            title: 'No, just our family',
            badge: 'Simplest',
            tone: 'recommended',
            description: 'Only accounts on this server can talk to each other. Nothing is shared with other servers.',
          },
          {
            value: 'on',
            title: 'Yes, connect to other servers',
            description: 'Family members can join rooms elsewhere and talk with friends on other servers. Messages in shared rooms are copied to those servers.',
          },
        ]}
      />
      {data.federationEnabled && name && isHomeOnlyName(name) && (
        <Notice tone="warning" title="Your server name is home-only">
          Other servers can’t reach <span className="mono">{name}</span>, so federation won’t work with this name. You can leave it on, but
          nothing will connect.
        </Notice>
      )}
    </>
  );
}
