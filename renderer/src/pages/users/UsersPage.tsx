/**
 * Users: search and page through accounts, create one with a generated first password to hand
 * over, and open an account to reset its password, sign out its sessions, make or unmake it an
 * admin, or deactivate it. Data from Synapse's user admin API (docs/admin_api/user_admin_api.md).
 */
import { useState, type FormEvent } from 'react';
import { synapseApi } from '../../api/synapse.ts';
import { useAdmin, useLoad } from '../../api/context.tsx';
import type { SynapseUser } from '../../api/wire.ts';
import { formatDate, localpart, relativeTime } from '../../components/format.ts';
import { ACTIONS_COLUMN, Checkbox, DataTable, EmptyState, PageHeader, Pager, Pill, useDebouncedSearch } from '../../components/page.tsx';
import { Button, LoadState, TextField } from '../../components/ui.tsx';
import { CreateUserDialog } from './CreateUserDialog.tsx';
import { UserDetails } from './UserDetails.tsx';

const PAGE_SIZE = 20;

export function UsersPage() {
  const [showDeactivated, setShowDeactivated] = useState(false);
  const [from, setFrom] = useState(0);
  const { search, setSearch, query } = useDebouncedSearch(() => setFrom(0));
  const [creating, setCreating] = useState(false);
  const [selected, setSelected] = useState<string>();
  const list = useLoad((t) => synapseApi.users(t, { from, limit: PAGE_SIZE, name: query || undefined, deactivated: showDeactivated }), [from, query, showDeactivated]);

  if (selected) {
    return (
      <UserDetails
        userId={selected}
        onBack={() => {
          setSelected(undefined);
          void list.reload();
        }}
      />
    );
  }

  const users = list.data?.users ?? [];
  return (
    <>
      <PageHeader
        title="Users"
        intro="Everyone with an account on this server. Create accounts for your family here and hand each person their first password."
        actions={<Button onClick={() => setCreating(true)}>Create account</Button>}
      />
      <div className="card panel">
        <form className="toolbar" role="search" onSubmit={(e: FormEvent) => e.preventDefault()}>
          <TextField label="Search accounts" value={search} onChange={setSearch} type="search" placeholder="Name or username" autoComplete="off" spellCheck={false} />
          <Checkbox
            label="Show deactivated accounts"
            checked={showDeactivated}
            onChange={(v) => {
              setShowDeactivated(v);
              setFrom(0);
            }}
          />
        </form>
        <LoadState load={list} label="Loading accounts…" errorTitle="Couldn’t load the accounts" />
        {list.data && users.length === 0 && (
          <EmptyState title={query ? `No account matches “${query}”` : 'No accounts yet'} icon="users">
            {query ? 'Check the spelling, or search for part of the name.' : 'Create an account for each person in your family.'}
          </EmptyState>
        )}
        {users.length > 0 && (
          <DataTable caption="Accounts" columns={['Name', 'Role', 'Created', 'Last seen', ACTIONS_COLUMN]}>
            {users.map((u) => (
              <UserRow key={u.name} user={u} onOpen={() => setSelected(u.name)} />
            ))}
          </DataTable>
        )}
        {list.data && users.length > 0 && <Pager from={from} count={users.length} total={list.data.total} pageSize={PAGE_SIZE} onPage={setFrom} noun="accounts" />}
      </div>
      {creating && (
        <CreateUserDialog
          onClose={(created) => {
            setCreating(false);
            if (created) void list.reload();
          }}
        />
      )}
    </>
  );
}

function UserRow({ user, onOpen }: { user: SynapseUser; onOpen: () => void }) {
  const { session } = useAdmin();
  const name = user.displayname || localpart(user.name);
  return (
    <tr className={user.deactivated ? 'row-muted' : undefined}>
      <td>
        <div className="cell-title">
          <span className="avatar" aria-hidden="true">
            {name.slice(0, 1).toUpperCase()}
          </span>
          <div>
            <div className="strong">
              {name}
              {user.name === session.userId && <span className="muted small"> (you)</span>}
            </div>
            <div className="mono small muted">{user.name}</div>
          </div>
        </div>
      </td>
      <td>
        {user.deactivated ? <Pill tone="neutral">Deactivated</Pill> : user.admin ? <Pill tone="info">Admin</Pill> : <Pill tone="ok">Member</Pill>}
      </td>
      <td className="nowrap">{user.creation_ts ? formatDate(user.creation_ts) : '—'}</td>
      <td className="nowrap">{user.last_seen_ts ? relativeTime(user.last_seen_ts) : <span className="muted">Never</span>}</td>
      <td className="cell-actions">
        <Button kind="secondary" className="btn-small" onClick={onOpen}>
          Manage<span className="visually-hidden"> {user.name}</span>
        </Button>
      </td>
    </tr>
  );
}
