/**
 * Federation: whether this server talks to other Matrix servers, which ones (allow and deny
 * lists, globs such as *.example.org), this server's signing key as others see it
 * (/_matrix/key/v2/server), and the servers it has talked to (Synapse's federation destinations,
 * docs/admin_api/federation.md) — or a note that there has been no traffic yet.
 */
import { useState, type FormEvent } from 'react';
import { adminApi } from '../../api/admin.ts';
import { synapseApi } from '../../api/synapse.ts';
import { useAction, useLoad } from '../../api/context.tsx';
import type { FederationDestination } from '../../api/wire.ts';
import { formatDateTime, relativeTime } from '../../components/format.ts';
import { DataTable, EmptyState, PageHeader, Pill, Section, Switch, TextArea } from '../../components/page.tsx';
import { Button, CopyButton, LoadState, Loading, Notice, SaveFooter } from '../../components/ui.tsx';

const lines = (s: string): string[] =>
  s
    .split(/[\n,]/)
    .map((x) => x.trim())
    .filter(Boolean);

export function FederationPage() {
  const settings = useLoad((t) => adminApi.settings(t), []);
  return (
    <>
      <PageHeader title="Federation" intro="Federation lets people here talk with people on other Matrix servers, such as matrix.org, as email works between providers." />
      <LoadState load={settings} label="Loading settings…" errorTitle="Couldn’t load the settings">
        {({ effective: eff, overridden }) => (
          <div className="stack">
            <PolicySection
              enabled={eff.federationEnabled === true}
              allow={(eff.federationAllowServers as string[] | undefined) ?? []}
              deny={(eff.federationDenyServers as string[] | undefined) ?? []}
              pinned={overridden.filter((k) => k.startsWith('federation'))}
              onSaved={() => void settings.reload()}
            />
            <SigningKeySection />
            <DestinationsSection enabled={eff.federationEnabled === true} />
          </div>
        )}
      </LoadState>
    </>
  );
}

function PolicySection(props: { enabled: boolean; allow: string[]; deny: string[]; pinned: string[]; onSaved: () => void }) {
  const [enabled, setEnabled] = useState(props.enabled);
  const [allow, setAllow] = useState(props.allow.join('\n'));
  const [deny, setDeny] = useState(props.deny.join('\n'));
  const [saved, setSaved] = useState(false);
  const action = useAction();
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setSaved(false);
    const a = lines(allow);
    const d = lines(deny);
    const r = await action.run((t) =>
      adminApi.updateSettings(t, { federationEnabled: enabled, federationAllowServers: a.length ? a : null, federationDenyServers: d.length ? d : null }),
    );
    if (r) {
      setSaved(true);
      props.onSaved();
    }
  };
  return (
    <Section title="Talking to other servers">
      <form onSubmit={(e) => void submit(e)} noValidate>
        {props.pinned.length > 0 && (
          <Notice tone="warning" title="Some of this was set when Hearth was started">
            A command-line flag or the settings file sets {props.pinned.join(', ')}; changes here to those have no effect until removed there.
          </Notice>
        )}
        <Switch
          label="Federation"
          checked={enabled}
          onChange={(v) => (setEnabled(v), setSaved(false))}
          description={enabled ? 'On: people here can join rooms on other servers and invite people from them.' : 'Off: this server is a private island. Only its own accounts can talk to each other.'}
        />
        {enabled && (
          <div className="two-up">
            <TextArea
              label="Only talk to these servers"
              value={allow}
              onChange={(v) => (setAllow(v), setSaved(false))}
              rows={4}
              mono
              placeholder="matrix.org"
              help="Leave empty to allow every server. One per line; *.example.org matches its subdomains."
            />
            <TextArea
              label="Never talk to these servers"
              value={deny}
              onChange={(v) => (setDeny(v), setSaved(false))}
              rows={4}
              mono
              placeholder="spam.example"
              help="Refused in both directions, even if allowed on the left."
            />
          </div>
        )}
        <SaveFooter action={action} success={saved && 'Saved.'} />
      </form>
    </Section>
  );
}

function SigningKeySection() {
  const keys = useLoad(() => synapseApi.serverKeys(), []);
  const entries = Object.entries(keys.data?.verify_keys ?? {});
  return (
    <Section title="This server’s signing key" intro="Other servers check this key to know messages really come from you. If you move Hearth to a new computer, restore a backup so the key stays the same.">
      {!keys.data && keys.loading && <Loading label="Loading the key…" />}
      {keys.error && <Notice tone="error">Couldn’t load the key: {keys.error}</Notice>}
      {entries.map(([id, k]) => (
        <dl className="kv" key={id}>
          <div>
            <dt>Key ID</dt>
            <dd className="mono">{id}</dd>
          </div>
          <div>
            <dt>Fingerprint</dt>
            <dd>
              <span className="mono fingerprint" data-testid="signing-key">
                {k.key.match(/.{1,4}/g)!.join(' ')}
              </span>{' '}
              <CopyButton text={k.key} label="Signing key" />
            </dd>
          </div>
        </dl>
      ))}
    </Section>
  );
}

function DestinationsSection(props: { enabled: boolean }) {
  const list = useLoad((t) => synapseApi.destinations(t), []);
  const ds = list.data?.destinations ?? [];
  return (
    <Section title="Servers this one talks to" actions={list.data && <Button kind="secondary" className="btn-small" onClick={() => void list.reload()}>Refresh</Button>}>
      <LoadState load={list} label="Loading…" errorTitle="Couldn’t load the list" />
      {list.data && ds.length === 0 && (
        <EmptyState title="No federation traffic yet" icon="federation">
          {props.enabled
            ? 'Hearth has not exchanged messages with any other server so far. Once someone here joins a room elsewhere or invites someone from another server, each server shows up here with its health.'
            : 'Federation is off, so this server talks to no others.'}
        </EmptyState>
      )}
      {ds.length > 0 && (
        <DataTable caption="Other servers" columns={['Server', 'Health', 'Last success', 'Last problem']}>
          {ds.map((d) => (
            <DestinationRow key={d.destination} d={d} />
          ))}
        </DataTable>
      )}
    </Section>
  );
}

function DestinationRow({ d }: { d: FederationDestination }) {
  const failing = d.retry_interval > 0;
  return (
    <tr>
      <td className="mono">{d.destination}</td>
      <td>{failing ? <Pill tone="warn">Retrying</Pill> : <Pill tone="ok">OK</Pill>}</td>
      <td className="nowrap">{d.last_success_ts ? <span title={formatDateTime(d.last_success_ts)}>{relativeTime(d.last_success_ts)}</span> : <span className="muted">Never</span>}</td>
      <td className="small">{failing ? (d.last_failure_reason ?? `Since ${d.failure_ts ? formatDateTime(d.failure_ts) : 'recently'}`) : <span className="muted">—</span>}</td>
    </tr>
  );
}
