/**
 * One account: who it is, its sessions (devices with last-seen time and address, each can be
 * signed out), and the admin actions — reset the password, make or unmake admin, deactivate
 * (optionally erasing their messages from others' view where possible).
 */
import { useState } from 'react';
import { synapseApi } from '../../api/synapse.ts';
import { useAction, useAdmin, useLoad } from '../../api/context.tsx';
import type { SynapseDevice, SynapseUser } from '../../api/wire.ts';
import { ConfirmDialog, Dialog } from '../../components/Dialog.tsx';
import { formatDateTime, localpart, relativeTime } from '../../components/format.ts';
import { generatePassword } from '../../components/generate-password.ts';
import { ACTIONS_COLUMN, Checkbox, DataTable, EmptyState, PageHeader, Pill, Section } from '../../components/page.tsx';
import { Button, ErrorState, LoadState, Loading, Notice, TextField } from '../../components/ui.tsx';
import { Handover, useServerAddress } from './handover.tsx';

type Open = 'reset' | 'admin' | 'deactivate' | 'sign-out-all' | { device: SynapseDevice } | undefined;

export function UserDetails(props: { userId: string; onBack: () => void }) {
  const { session } = useAdmin();
  const user = useLoad((t) => synapseApi.user(t, props.userId), [props.userId]);
  const devices = useLoad((t) => synapseApi.devices(t, props.userId), [props.userId]);
  const [open, setOpen] = useState<Open>();
  const [done, setDone] = useState<string>();
  const self = props.userId === session.userId;
  const u = user.data;
  const name = u?.displayname || localpart(props.userId);

  const after = (message: string): void => {
    setOpen(undefined);
    setDone(message);
    void user.reload();
    void devices.reload();
  };

  return (
    <>
      <p className="back-link">
        <button type="button" className="link-button" onClick={props.onBack}>
          ← All accounts
        </button>
      </p>
      <PageHeader title={name} intro={<span className="mono">{props.userId}</span>} />
      {done && (
        <Notice tone="success" live>
          {done}
        </Notice>
      )}
      <LoadState load={user} label="Loading the account…" errorTitle="Couldn’t load this account" />
      {u && (
        <div className="grid">
          <Section title="Account">
            <dl className="kv">
              <div>
                <dt>Status</dt>
                <dd>{u.deactivated ? <Pill tone="neutral">Deactivated</Pill> : <Pill tone="ok">Active</Pill>}</dd>
              </div>
              <div>
                <dt>Role</dt>
                <dd>{u.admin ? 'Admin — can manage this server' : 'Member'}</dd>
              </div>
              <div>
                <dt>Created</dt>
                {/* The single-account query gives seconds, as Synapse's does. */}
                <dd>{u.creation_ts ? formatDateTime(u.creation_ts < 1e12 ? u.creation_ts * 1000 : u.creation_ts) : '—'}</dd>
              </div>
              {u.erased && (
                <div>
                  <dt>Erased</dt>
                  <dd>Their messages are hidden from people who join later.</dd>
                </div>
              )}
            </dl>
          </Section>
          <Section title="Actions">
            {u.deactivated ? (
              <p className="muted">This account is deactivated: nobody can sign in to it, and its username stays reserved.</p>
            ) : (
              <div className="action-list">
                <ActionRow title="Reset password" text="Make a new password to hand over. Every session of this account is signed out.">
                  <Button kind="secondary" onClick={() => setOpen('reset')}>
                    Reset password
                  </Button>
                </ActionRow>
                <ActionRow title={u.admin ? 'Remove admin rights' : 'Make admin'} text={self ? 'You cannot change your own admin rights.' : u.admin ? 'They keep their account, but can no longer manage the server.' : 'They will be able to manage accounts, rooms and settings.'}>
                  <Button kind="secondary" disabled={self} onClick={() => setOpen('admin')}>
                    {u.admin ? 'Remove admin' : 'Make admin'}
                  </Button>
                </ActionRow>
                <ActionRow title="Deactivate account" text={self ? 'You cannot deactivate your own account here.' : 'They can no longer sign in. This cannot be undone.'}>
                  <Button kind="danger" disabled={self} onClick={() => setOpen('deactivate')}>
                    Deactivate
                  </Button>
                </ActionRow>
              </div>
            )}
          </Section>
          <Section
            title="Sessions"
            className="panel-wide"
            intro="Each phone, computer or browser signed in to this account. Signing one out ends its session; encrypted messages it has not backed up may become unreadable there."
            actions={
              (devices.data?.devices.length ?? 0) > 1 && (
                <Button kind="secondary" className="btn-small" onClick={() => setOpen('sign-out-all')}>
                  Sign out everywhere
                </Button>
              )
            }
          >
            <Sessions loaded={devices} self={self} ownDevice={session.deviceId} onSignOut={(d) => setOpen({ device: d })} />
          </Section>
        </div>
      )}
      {u && open === 'reset' && <ResetPasswordDialog user={u} onClose={() => setOpen(undefined)} onDone={() => (void user.reload(), void devices.reload())} />}
      {u && open === 'admin' && <AdminDialog user={u} onClose={() => setOpen(undefined)} onDone={after} />}
      {u && open === 'deactivate' && <DeactivateDialog user={u} onClose={() => setOpen(undefined)} onDone={after} />}
      {open === 'sign-out-all' && (
        <SignOutDialog userId={props.userId} devices={(devices.data?.devices ?? []).filter((d) => !(self && d.device_id === session.deviceId))} onClose={() => setOpen(undefined)} onDone={after} />
      )}
      {typeof open === 'object' && <SignOutDialog userId={props.userId} devices={[open.device]} onClose={() => setOpen(undefined)} onDone={after} />}
    </>
  );
}

function ActionRow(props: { title: string; text: string; children: React.ReactNode }) {
  return (
    <div className="action-row">
      <div>
        <p className="strong">{props.title}</p>
        <p className="small muted">{props.text}</p>
      </div>
      {props.children}
    </div>
  );
}

function Sessions(props: { loaded: ReturnType<typeof useLoad<{ devices: SynapseDevice[] }>>; self: boolean; ownDevice?: string; onSignOut: (d: SynapseDevice) => void }) {
  const { data, error, loading, reload } = props.loaded;
  if (!data && loading) return <Loading label="Loading sessions…" />;
  if (error) return <ErrorState title="Couldn’t load the sessions" message={error} onRetry={() => void reload()} />;
  const list = [...(data?.devices ?? [])].sort((a, b) => (b.last_seen_ts ?? 0) - (a.last_seen_ts ?? 0));
  if (list.length === 0) return <EmptyState title="Not signed in anywhere">When this person signs in on a phone or computer, the session shows up here.</EmptyState>;
  return (
    <DataTable caption="Sessions" columns={['Session', 'Last seen', 'From address', ACTIONS_COLUMN]}>
      {list.map((d) => {
        const current = props.self && d.device_id === props.ownDevice;
        return (
          <tr key={d.device_id}>
            <td>
              <div className="strong">{d.display_name || 'Unnamed session'}</div>
              <div className="small muted">
                <span className="mono">{d.device_id}</span>
                {d.last_seen_user_agent && <span title={d.last_seen_user_agent}> · {shortAgent(d.last_seen_user_agent)}</span>}
              </div>
            </td>
            <td className="nowrap">{d.last_seen_ts ? <span title={formatDateTime(d.last_seen_ts)}>{relativeTime(d.last_seen_ts)}</span> : <span className="muted">Not yet</span>}</td>
            <td className="mono small">{d.last_seen_ip ?? <span className="muted">—</span>}</td>
            <td className="cell-actions">
              {current ? (
                <Pill tone="info">This window</Pill>
              ) : (
                <Button kind="secondary" className="btn-small" onClick={() => props.onSignOut(d)}>
                  Sign out<span className="visually-hidden"> {d.display_name || d.device_id}</span>
                </Button>
              )}
            </td>
          </tr>
        );
      })}
    </DataTable>
  );
}

/** "Firefox on Linux"-style summary of a user agent; the full string is in the tooltip. */
function shortAgent(ua: string): string {
  const app = /Element|SchildiChat|FluffyChat|Nheko|Fractal|Cinny|Firefox|Edg|Chrome|Safari|curl|matrix-js-sdk|python/i.exec(ua)?.[0];
  const os = /Android|iPhone|iPad|Windows|Mac OS|Linux/i.exec(ua)?.[0];
  if (!app && !os) return ua.slice(0, 40);
  return [app === 'Edg' ? 'Edge' : app, os && `on ${os.replace('Mac OS', 'macOS')}`].filter(Boolean).join(' ');
}

function ResetPasswordDialog(props: { user: SynapseUser; onClose: () => void; onDone: () => void }) {
  const [password, setPassword] = useState(generatePassword);
  const [reset, setReset] = useState(false);
  const action = useAction();
  const address = useServerAddress();
  const name = props.user.displayname || localpart(props.user.name);
  if (reset) {
    return (
      <Dialog title="Password reset" onClose={props.onClose}>
        <Notice tone="success">Give {name} the new password. Their sessions were signed out.</Notice>
        <Handover userId={props.user.name} password={password} address={address} />
        <div className="dialog-actions">
          <Button onClick={props.onClose}>Done</Button>
        </div>
      </Dialog>
    );
  }
  return (
    <ConfirmDialog
      title={`Reset ${name}’s password?`}
      confirmLabel="Reset password"
      busy={action.busy}
      error={action.error}
      onClose={props.onClose}
      onConfirm={() =>
        void action.run((t) => synapseApi.resetPassword(t, props.user.name, password)).then((r) => {
          if (!r) return;
          setReset(true);
          props.onDone();
        })
      }
    >
      <p>The old password stops working, and {name} is signed out on every device.</p>
      <TextField label="New password" value={password} onChange={setPassword} className="input mono" autoComplete="off" spellCheck={false}>
        <div className="field-after">
          <Button kind="quiet" className="btn-small" onClick={() => setPassword(generatePassword())}>
            Make a new one
          </Button>
        </div>
      </TextField>
    </ConfirmDialog>
  );
}

function AdminDialog(props: { user: SynapseUser; onClose: () => void; onDone: (m: string) => void }) {
  const action = useAction();
  const name = props.user.displayname || localpart(props.user.name);
  const make = !props.user.admin;
  return (
    <ConfirmDialog
      title={make ? `Make ${name} an admin?` : `Remove ${name}’s admin rights?`}
      confirmLabel={make ? 'Make admin' : 'Remove admin'}
      busy={action.busy}
      error={action.error}
      onClose={props.onClose}
      onConfirm={() => void action.run((t) => synapseApi.setAdmin(t, props.user.name, make)).then((r) => r && props.onDone(make ? `${name} is now an admin.` : `${name} is no longer an admin.`))}
    >
      <p>{make ? 'Admins can sign in to these pages and manage accounts, rooms and settings.' : 'They keep their account and conversations, but can no longer manage the server.'}</p>
    </ConfirmDialog>
  );
}

function DeactivateDialog(props: { user: SynapseUser; onClose: () => void; onDone: (m: string) => void }) {
  const [erase, setErase] = useState(false);
  const action = useAction();
  const name = props.user.displayname || localpart(props.user.name);
  return (
    <ConfirmDialog
      title={`Deactivate ${name}’s account?`}
      confirmLabel="Deactivate account"
      danger
      busy={action.busy}
      error={action.error}
      onClose={props.onClose}
      onConfirm={() => void action.run((t) => synapseApi.deactivate(t, props.user.name, erase)).then((r) => r && props.onDone(`${name}’s account is deactivated.`))}
    >
      <p>
        {name} is signed out everywhere, leaves every room, and can never sign in again. The username <span className="mono">{props.user.name}</span> stays reserved. This cannot be undone.
      </p>
      <Checkbox label="Also erase their messages" checked={erase} onChange={setErase} help="Hides what they wrote from people who join rooms later, and removes their name and picture." />
    </ConfirmDialog>
  );
}

function SignOutDialog(props: { userId: string; devices: SynapseDevice[]; onClose: () => void; onDone: (m: string) => void }) {
  const action = useAction();
  const one = props.devices.length === 1 ? props.devices[0] : undefined;
  return (
    <ConfirmDialog
      title={one ? `Sign out “${one.display_name || one.device_id}”?` : `Sign out ${props.devices.length} sessions?`}
      confirmLabel="Sign out"
      danger
      busy={action.busy}
      error={action.error}
      onClose={props.onClose}
      onConfirm={() =>
        void action
          .run((t) => (one ? synapseApi.deleteDevice(t, props.userId, one.device_id) : synapseApi.deleteDevices(t, props.userId, props.devices.map((d) => d.device_id))))
          .then((r) => r && props.onDone(one ? 'The session was signed out.' : 'The sessions were signed out.'))
      }
    >
      <p>{one ? 'That device will need to sign in again.' : 'Every listed device will need to sign in again.'} Encrypted messages not backed up on it may become unreadable there.</p>
    </ConfirmDialog>
  );
}
