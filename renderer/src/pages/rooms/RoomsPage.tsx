/**
 * Rooms: every room this server knows, with its name, members, whether it is shared with other
 * servers, and whether it is encrypted; a room's details and members; block a room (nobody here
 * can join it) or delete it (everyone is removed; optionally blocked). Synapse's room admin API
 * (docs/admin_api/rooms.md).
 */
import { useState, type FormEvent } from 'react';
import { synapseApi } from '../../api/synapse.ts';
import { useAction, useLoad } from '../../api/context.tsx';
import type { SynapseRoom } from '../../api/wire.ts';
import { ConfirmDialog, Dialog } from '../../components/Dialog.tsx';
import { ACTIONS_COLUMN, Checkbox, DataTable, EmptyState, PageHeader, Pager, Pill, useDebouncedSearch, useDetailDialog } from '../../components/page.tsx';
import { Button, LoadState, Loading, Notice, TextField } from '../../components/ui.tsx';

const PAGE_SIZE = 20;
const JOIN_RULES: Record<string, string> = {
  public: 'Anyone who knows its address',
  invite: 'Invited people only',
  knock: 'People who ask and are let in',
  restricted: 'Members of a space',
  knock_restricted: 'Members of a space, or people who ask',
  private: 'Invited people only',
};

function roomLabel(r: Pick<SynapseRoom, 'name' | 'canonical_alias' | 'room_id'>): string {
  return r.name || r.canonical_alias || 'Unnamed room';
}

export function RoomsPage() {
  const [from, setFrom] = useState(0);
  const { search, setSearch, query } = useDebouncedSearch(() => setFrom(0));
  const list = useLoad((t) => synapseApi.rooms(t, { from, limit: PAGE_SIZE, search: query || undefined }), [from, query]);
  const { open, setOpen, notice, close } = useDetailDialog<SynapseRoom>(list.reload);

  const rooms = list.data?.rooms ?? [];
  return (
    <>
      <PageHeader title="Rooms" intro="Conversations on this server. Hearth can’t read encrypted messages — only who is in a room and its settings." />
      {notice && (
        <Notice tone="success" live>
          {notice}
        </Notice>
      )}
      <div className="card panel">
        <form className="toolbar" role="search" onSubmit={(e: FormEvent) => e.preventDefault()}>
          <TextField label="Search rooms" type="search" value={search} onChange={setSearch} placeholder="Room name, address or ID" autoComplete="off" spellCheck={false} />
        </form>
        <LoadState load={list} label="Loading rooms…" errorTitle="Couldn’t load the rooms" />
        {list.data && rooms.length === 0 && (
          <EmptyState title={query ? `No room matches “${query}”` : 'No rooms yet'} icon="rooms">
            {query ? 'Try part of the name.' : 'Rooms appear here once people start chatting.'}
          </EmptyState>
        )}
        {rooms.length > 0 && (
          <DataTable caption="Rooms" columns={['Room', { label: 'Members', className: 'num' }, 'Reach', 'Encryption', ACTIONS_COLUMN]}>
            {rooms.map((r) => (
              <tr key={r.room_id}>
                <td>
                  <div className="strong">{roomLabel(r)}</div>
                  <div className="small muted mono">{r.canonical_alias && r.name ? r.canonical_alias : r.room_id}</div>
                </td>
                <td className="num">
                  {r.joined_members}
                  {r.joined_members !== r.joined_local_members && <span className="muted small"> ({r.joined_local_members} here)</span>}
                </td>
                <td>{r.joined_members > r.joined_local_members ? <Pill tone="info">With other servers</Pill> : <Pill tone="neutral">This server only</Pill>}</td>
                <td>{r.encryption ? <Pill tone="ok">Encrypted</Pill> : <Pill tone="warn">Not encrypted</Pill>}</td>
                <td className="cell-actions">
                  <Button kind="secondary" className="btn-small" onClick={() => setOpen(r)}>
                    Details<span className="visually-hidden"> of {roomLabel(r)}</span>
                  </Button>
                </td>
              </tr>
            ))}
          </DataTable>
        )}
        {list.data && rooms.length > 0 && <Pager from={from} count={rooms.length} total={list.data.total_rooms} pageSize={PAGE_SIZE} onPage={setFrom} noun="rooms" />}
      </div>
      {open && <RoomDialog room={open} onClose={close} />}
    </>
  );
}

function RoomDialog(props: { room: SynapseRoom; onClose: (message?: string) => void }) {
  const id = props.room.room_id;
  const details = useLoad((t) => synapseApi.room(t, id), [id]);
  const members = useLoad((t) => synapseApi.roomMembers(t, id), [id]);
  const block = useLoad((t) => synapseApi.roomBlock(t, id), [id]);
  const [confirm, setConfirm] = useState<'block' | 'delete'>();
  const d = details.data ?? props.room;
  const blocked = block.data?.block ?? false;
  return (
    <>
      <Dialog title={roomLabel(d)} onClose={() => props.onClose()} wide>
        {details.error && <Notice tone="error">{details.error}</Notice>}
        <dl className="kv">
          {details.data?.topic && (
            <div>
              <dt>Topic</dt>
              <dd>{details.data.topic}</dd>
            </div>
          )}
          <div>
            <dt>Room ID</dt>
            <dd className="mono small">{d.room_id}</dd>
          </div>
          {d.canonical_alias && (
            <div>
              <dt>Address</dt>
              <dd className="mono">{d.canonical_alias}</dd>
            </div>
          )}
          <div>
            <dt>Created by</dt>
            <dd className="mono">{d.creator}</dd>
          </div>
          <div>
            <dt>Encryption</dt>
            <dd>{d.encryption ? `On (${d.encryption})` : 'Off — messages are stored readable on the server'}</dd>
          </div>
          <div>
            <dt>Who can join</dt>
            <dd>
              {JOIN_RULES[d.join_rules ?? ''] ?? d.join_rules ?? 'Unknown'}
              {d.public && ' · listed in the room directory'}
            </dd>
          </div>
          <div>
            <dt>Other servers</dt>
            <dd>{d.federatable ? (d.joined_members > d.joined_local_members ? 'Members from other servers are in this room' : 'Allowed, but nobody from elsewhere is in it') : 'Never — this room stays on this server'}</dd>
          </div>
          <div>
            <dt>Room version</dt>
            <dd>{d.version}</dd>
          </div>
          <div>
            <dt>Status</dt>
            <dd>{blocked ? <Pill tone="bad">Blocked</Pill> : <Pill tone="ok">Open</Pill>}</dd>
          </div>
        </dl>
        <h3 className="subheading">Members ({members.data?.total ?? d.joined_members})</h3>
        {members.loading && !members.data && <Loading label="Loading members…" />}
        {members.error && <Notice tone="error">{members.error}</Notice>}
        {members.data && members.data.members.length === 0 && <p className="muted">Nobody is in this room any more.</p>}
        {members.data && members.data.members.length > 0 && (
          <ul className="chip-list">
            {members.data.members.map((m) => (
              <li key={m} className="chip mono">
                {m}
              </li>
            ))}
          </ul>
        )}
        <div className="dialog-actions dialog-actions-split">
          <Button kind="danger" onClick={() => setConfirm('delete')}>
            Delete room
          </Button>
          <div className="button-row">
            <Button kind="secondary" onClick={() => setConfirm('block')}>
              {blocked ? 'Unblock' : 'Block room'}
            </Button>
            <Button onClick={() => props.onClose()}>Close</Button>
          </div>
        </div>
      </Dialog>
      {confirm === 'block' && <BlockDialog room={d} blocked={blocked} onClose={() => setConfirm(undefined)} onDone={(m) => props.onClose(m)} />}
      {confirm === 'delete' && <DeleteDialog room={d} onClose={() => setConfirm(undefined)} onDone={(m) => props.onClose(m)} />}
    </>
  );
}

function BlockDialog(props: { room: SynapseRoom; blocked: boolean; onClose: () => void; onDone: (m: string) => void }) {
  const action = useAction();
  const name = roomLabel(props.room);
  return (
    <ConfirmDialog
      title={props.blocked ? `Unblock ${name}?` : `Block ${name}?`}
      confirmLabel={props.blocked ? 'Unblock' : 'Block room'}
      danger={!props.blocked}
      busy={action.busy}
      error={action.error}
      onClose={props.onClose}
      onConfirm={() => void action.run((t) => synapseApi.setRoomBlock(t, props.room.room_id, !props.blocked)).then((r) => r && props.onDone(props.blocked ? `${name} is unblocked.` : `${name} is blocked.`))}
    >
      <p>{props.blocked ? 'People on this server can join it again.' : 'Nobody on this server can join it any more. People already in it stay until you delete it.'}</p>
    </ConfirmDialog>
  );
}

function DeleteDialog(props: { room: SynapseRoom; onClose: () => void; onDone: (m: string) => void }) {
  const [blockToo, setBlockToo] = useState(true);
  const [progress, setProgress] = useState<string>();
  const action = useAction();
  const name = roomLabel(props.room);
  const start = (): void =>
    void action.run(async (t) => {
      const { delete_id } = await synapseApi.deleteRoom(t, props.room.room_id, { block: blockToo, purge: true });
      // Deletion runs in the background; follow it until it ends (a few seconds at most here).
      for (let i = 0; i < 120; i++) {
        const s = await synapseApi.deleteStatus(t, delete_id);
        if (s.status === 'complete') return props.onDone(`${name} was deleted.`);
        if (s.status === 'failed') throw new Error(s.error ?? 'Deleting the room failed.');
        setProgress(s.status === 'purging' ? 'Removing its history…' : 'Removing members…');
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error('Deleting is taking long; it continues in the background.');
    });
  return (
    <ConfirmDialog title={`Delete ${name}?`} confirmLabel="Delete room" danger busy={action.busy} error={action.error} onClose={props.onClose} onConfirm={start}>
      <p>Everyone on this server is removed from the room and its history is deleted from this server. People on other servers keep their copy. This cannot be undone.</p>
      <Checkbox label="Also block it, so nobody here can join it again" checked={blockToo} onChange={setBlockToo} />
      {progress && action.busy && (
        <p className="muted" role="status">
          {progress}
        </p>
      )}
    </ConfirmDialog>
  );
}
