/**
 * Reports: messages people reported (Synapse's event reports, docs/admin_api/event_reports.md),
 * newest first, with the reported message itself when the server can read it, and the actions
 * an admin takes — dismiss the report, deactivate the sender (local accounts), block the room.
 */
import { useState } from 'react';
import { synapseApi } from '../../api/synapse.ts';
import { useAction, useAdmin, useLoad } from '../../api/context.tsx';
import type { EventReport } from '../../api/wire.ts';
import { ConfirmDialog, Dialog } from '../../components/Dialog.tsx';
import { formatDateTime, relativeTime } from '../../components/format.ts';
import { EmptyState, PageHeader, Pager, useDetailDialog } from '../../components/page.tsx';
import { Button, LoadState, Loading, Notice } from '../../components/ui.tsx';

const PAGE_SIZE = 20;

export function ReportsPage() {
  const [from, setFrom] = useState(0);
  const list = useLoad((t) => synapseApi.reports(t, { from, limit: PAGE_SIZE }), [from]);
  const { open, setOpen, notice, close } = useDetailDialog<EventReport>(list.reload);
  const reports = list.data?.event_reports ?? [];
  return (
    <>
      <PageHeader title="Reports" intro="Messages people on this server reported to you. Look at each one, then decide what to do." />
      {notice && (
        <Notice tone="success" live>
          {notice}
        </Notice>
      )}
      <div className="card panel">
        <LoadState load={list} label="Loading reports…" errorTitle="Couldn’t load the reports" />
        {list.data && reports.length === 0 && (
          <EmptyState title="Nothing reported" icon="reports">
            When someone reports a message in their app, it shows up here.
          </EmptyState>
        )}
        {reports.length > 0 && (
          <ul className="report-list">
            {reports.map((r) => (
              <li key={r.id} className="report">
                <div className="report-main">
                  <p className="report-reason">{r.reason ? `“${r.reason}”` : <span className="muted">No reason given</span>}</p>
                  <p className="small muted">
                    <span className="mono">{r.user_id}</span> reported a message from <span className="mono">{r.sender}</span> in{' '}
                    <strong>{r.name || r.canonical_alias || r.room_id}</strong> · <span title={formatDateTime(r.received_ts)}>{relativeTime(r.received_ts)}</span>
                  </p>
                </div>
                <Button kind="secondary" className="btn-small" onClick={() => setOpen(r)}>
                  Review<span className="visually-hidden"> report {r.id}</span>
                </Button>
              </li>
            ))}
          </ul>
        )}
        {list.data && reports.length > 0 && <Pager from={from} count={reports.length} total={list.data.total} pageSize={PAGE_SIZE} onPage={setFrom} noun="reports" />}
      </div>
      {open && <ReportDialog report={open} onClose={close} />}
    </>
  );
}

type Act = 'dismiss' | 'deactivate' | 'block';

function ReportDialog(props: { report: EventReport; onClose: (message?: string) => void }) {
  const { serverName, session } = useAdmin();
  const r = props.report;
  const details = useLoad((t) => synapseApi.report(t, r.id), [r.id]);
  const [act, setAct] = useState<Act>();
  const action = useAction();
  const ev = details.data?.event_json;
  const body = typeof ev?.content?.body === 'string' ? ev.content.body : undefined;
  const encrypted = ev?.type === 'm.room.encrypted';
  // Only local accounts can be deactivated here, and never your own.
  const canDeactivate = serverName !== undefined && r.sender.endsWith(`:${serverName}`) && r.sender !== session.userId;
  const room = r.name || r.canonical_alias || r.room_id;

  const confirmations: Record<Act, { title: string; label: string; text: string; run: (t: string) => Promise<unknown>; done: string }> = {
    dismiss: { title: 'Dismiss this report?', label: 'Dismiss', text: 'The report is removed from this list. Nothing else changes.', run: (t) => synapseApi.dismissReport(t, r.id), done: 'The report was dismissed.' },
    deactivate: {
      title: `Deactivate ${r.sender}?`,
      label: 'Deactivate account',
      text: 'They are signed out everywhere and can never sign in again. The report is dismissed too. This cannot be undone.',
      run: async (t) => {
        await synapseApi.deactivate(t, r.sender, false);
        await synapseApi.dismissReport(t, r.id);
      },
      done: `${r.sender} was deactivated.`,
    },
    block: {
      title: `Block ${room}?`,
      label: 'Block room',
      text: 'Nobody on this server can join the room any more. To remove everyone from it, delete it on the Rooms page.',
      run: (t) => synapseApi.setRoomBlock(t, r.room_id, true),
      done: `${room} is blocked.`,
    },
  };
  const c = act && confirmations[act];

  return (
    <>
      <Dialog title="Reported message" onClose={() => props.onClose()} wide>
        <dl className="kv">
          <div>
            <dt>Reason</dt>
            <dd>{r.reason || <span className="muted">None given</span>}</dd>
          </div>
          <div>
            <dt>Reported by</dt>
            <dd className="mono">{r.user_id}</dd>
          </div>
          <div>
            <dt>Sent by</dt>
            <dd className="mono">{r.sender}</dd>
          </div>
          <div>
            <dt>Room</dt>
            <dd>{room}</dd>
          </div>
          <div>
            <dt>Reported</dt>
            <dd>{formatDateTime(r.received_ts)}</dd>
          </div>
        </dl>
        <h3 className="subheading">The message</h3>
        {details.loading && !details.data && <Loading label="Loading the message…" />}
        {details.error && <Notice tone="error">{details.error}</Notice>}
        {ev && (
          <blockquote className="quoted-event">
            {body !== undefined ? (
              <p>{body}</p>
            ) : encrypted ? (
              <p className="muted">This message is end-to-end encrypted, so Hearth cannot show it. Ask the person who reported it what it said.</p>
            ) : (
              <p className="muted">A {ev.type ?? 'message'} without text.</p>
            )}
            {ev.origin_server_ts !== undefined && <footer className="small muted">Sent {formatDateTime(ev.origin_server_ts)}</footer>}
          </blockquote>
        )}
        <div className="dialog-actions dialog-actions-split">
          <div className="button-row">
            {canDeactivate && (
              <Button kind="danger" onClick={() => setAct('deactivate')}>
                Deactivate sender
              </Button>
            )}
            <Button kind="secondary" onClick={() => setAct('block')}>
              Block room
            </Button>
          </div>
          <Button onClick={() => setAct('dismiss')}>Dismiss report</Button>
        </div>
      </Dialog>
      {c && (
        <ConfirmDialog
          title={c.title}
          confirmLabel={c.label}
          danger={act !== 'dismiss'}
          busy={action.busy}
          error={action.error}
          onClose={() => setAct(undefined)}
          onConfirm={() => void action.run(async (t) => (await c.run(t), true)).then((ok) => ok && props.onClose(c.done))}
        >
          <p>{c.text}</p>
        </ConfirmDialog>
      )}
    </>
  );
}
