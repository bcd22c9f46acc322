/**
 * Messaging and history over real HTTP: room_send (idempotency), redaction, message_pagination,
 * event_context, /event, room_event_by_timestamp, relations, threads_list, and history
 * visibility on every read path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRoomsFixture, C, V1, enc, uid, type RoomsFixture } from './rooms-fixture.ts';
import type { BackfillOutcome } from '../services/rooms/timeline.ts';

async function room(f: RoomsFixture, opts: object = {}): Promise<string> {
  const cr = await f.as('alice')('POST', `${C}/createRoom`, { preset: 'public_chat', ...opts });
  assert.equal(cr.status, 200, JSON.stringify(cr.json));
  return cr.json.room_id;
}

const text = (body: string): object => ({ msgtype: 'm.text', body });

test('send is idempotent per device and transaction id; transaction_id only for that device', async () => {
  const f = await startRoomsFixture();
  try {
    const r = enc(await room(f));
    const a = await f.request('PUT', `${C}/rooms/${r}/send/m.room.message/txn1`, { token: 'tok-alice', body: text('one') });
    assert.equal(a.status, 200);
    const b = await f.request('PUT', `${C}/rooms/${r}/send/m.room.message/txn1`, { token: 'tok-alice', body: text('one') });
    assert.equal(b.json.event_id, a.json.event_id);
    const other = await f.request('PUT', `${C}/rooms/${r}/send/m.room.message/txn1`, { token: 'tok-alice-PHONE', body: text('one') });
    assert.notEqual(other.json.event_id, a.json.event_id);
    // Concurrent duplicates still give one event.
    const [c1, c2] = await Promise.all([
      f.request('PUT', `${C}/rooms/${r}/send/m.room.message/txn2`, { token: 'tok-alice', body: text('two') }),
      f.request('PUT', `${C}/rooms/${r}/send/m.room.message/txn2`, { token: 'tok-alice', body: text('two') }),
    ]);
    assert.equal(c1.json.event_id, c2.json.event_id);
    const own = await f.request('GET', `${C}/rooms/${r}/event/${enc(a.json.event_id)}`, { token: 'tok-alice' });
    assert.equal(own.json.unsigned.transaction_id, 'txn1');
    assert.equal(typeof own.json.unsigned.age, 'number');
    const phone = await f.request('GET', `${C}/rooms/${r}/event/${enc(a.json.event_id)}`, { token: 'tok-alice-PHONE' });
    assert.equal(phone.json.unsigned.transaction_id, undefined);

    const notMember = await f.as('bob')('PUT', `${C}/rooms/${r}/send/m.room.message/x`, text('hi'));
    assert.equal(notMember.status, 403);
    const unknown = await f.as('alice')('PUT', `${C}/rooms/${enc('!nope:localhost')}/send/m.room.message/x`, text('hi'));
    assert.equal(unknown.status, 403);
    const notJson = await f.request('PUT', `${C}/rooms/${r}/send/m.room.message/y`, { token: 'tok-alice', rawBody: 'hello' });
    assert.equal(notJson.json.errcode, 'M_NOT_JSON');
    const array = await f.as('alice')('PUT', `${C}/rooms/${r}/send/m.room.message/z`, [1]);
    assert.equal(array.json.errcode, 'M_BAD_JSON');
    const big = await f.as('alice')('PUT', `${C}/rooms/${r}/send/m.room.message/big`, { body: 'x'.repeat(70000) });
    assert.equal(big.status, 413);
    assert.equal(big.json.errcode, 'M_TOO_LARGE');
    const float = await f.as('alice')('PUT', `${C}/rooms/${r}/send/m.room.message/float`, { body: 'x', n: 1.5 });
    assert.equal(float.status, 400, 'v6+ rooms need canonical JSON (no floats)');
    // A power-restricted event type.
    const enc2 = await f.as('bob')('POST', `${C}/join/${r}`, {});
    assert.equal(enc2.status, 200);
    const plDenied = await f.as('bob')('PUT', `${C}/rooms/${r}/send/m.room.message/ok`, text('fine'));
    assert.equal(plDenied.status, 200);
  } finally {
    await f.close();
  }
});

test('redaction strips content per room version and adds redacted_because', async () => {
  const f = await startRoomsFixture();
  try {
    for (const version of ['6', '10', '11', '12']) {
      const roomId = await room(f, { room_version: version });
      const r = enc(roomId);
      const alice = f.as('alice');
      const bob = f.as('bob');
      await bob('POST', `${C}/join/${r}`, {});
      const msg = await bob('PUT', `${C}/rooms/${r}/send/m.room.message/m1`, text('secret'));
      // Others need the redact level.
      const bobOnAlice = await alice('PUT', `${C}/rooms/${r}/send/m.room.message/m2`, text('mine'));
      const denied = await bob('PUT', `${C}/rooms/${r}/redact/${enc(bobOnAlice.json.event_id)}/t1`, {});
      assert.equal(denied.status, 403);
      const red = await alice('PUT', `${C}/rooms/${r}/redact/${enc(msg.json.event_id)}/t1`, { reason: 'oops' });
      assert.equal(red.status, 200, JSON.stringify(red.json));
      const redAgain = await alice('PUT', `${C}/rooms/${r}/redact/${enc(msg.json.event_id)}/t1`, { reason: 'oops' });
      assert.equal(redAgain.json.event_id, red.json.event_id, 'redaction is idempotent per txn');
      const ev = await bob('GET', `${C}/rooms/${r}/event/${enc(msg.json.event_id)}`);
      assert.deepEqual(ev.json.content, {});
      assert.equal(ev.json.unsigned.redacted_because.event_id, red.json.event_id);
      assert.equal(ev.json.unsigned.redacted_because.redacts, msg.json.event_id);
      assert.equal(ev.json.unsigned.redacted_because.content.reason, 'oops');
      if (version === '11' || version === '12') assert.equal(ev.json.unsigned.redacted_because.content.redacts, msg.json.event_id);
      // Own events: allowed without power.
      const own = await bob('PUT', `${C}/rooms/${r}/send/m.room.message/m3`, text('mine'));
      assert.equal((await bob('PUT', `${C}/rooms/${r}/redact/${enc(own.json.event_id)}/t2`, {})).status, 200);
      // Power levels: `invite` survives redaction only from v11.
      const pl = await alice('GET', `${C}/rooms/${r}/state/m.room.power_levels?format=event`);
      await alice('PUT', `${C}/rooms/${r}/redact/${enc(pl.json.event_id)}/t3`, {});
      const plAfter = await alice('GET', `${C}/rooms/${r}/event/${enc(pl.json.event_id)}`);
      assert.equal('invite' in plAfter.json.content, version === '11' || version === '12', `v${version}`);
      assert.equal('notifications' in plAfter.json.content, false);
      const unknown = await alice('PUT', `${C}/rooms/${r}/redact/${enc('$nope')}/t4`, {});
      assert.equal(unknown.status, 404);
    }
  } finally {
    await f.close();
  }
});

test('messages: pagination both directions with tokens, to, filter, lazy-loaded members', async () => {
  const f = await startRoomsFixture();
  try {
    const roomId = await room(f);
    const r = enc(roomId);
    const alice = f.as('alice');
    const bob = f.as('bob');
    await bob('POST', `${C}/join/${r}`, {});
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      const who = i % 2 === 0 ? alice : bob;
      ids.push((await who('PUT', `${C}/rooms/${r}/send/m.room.message/p${i}`, text(`m${i}`))).json.event_id);
    }
    // Backwards from the end, in pages of 10 messages.
    const filter = enc(JSON.stringify({ types: ['m.room.message'] }));
    let from: string | undefined;
    const seen: string[] = [];
    for (let page = 0; page < 5; page++) {
      const res = await alice('GET', `${C}/rooms/${r}/messages?dir=b&limit=10&filter=${filter}${from ? `&from=${from}` : ''}`);
      assert.equal(res.status, 200);
      seen.push(...res.json.chunk.map((e: any) => e.event_id));
      if (!res.json.end) break;
      from = res.json.end;
    }
    assert.deepEqual(seen, [...ids].reverse());
    // Forwards from the start.
    const fwd: string[] = [];
    from = undefined;
    for (let page = 0; page < 10; page++) {
      const res = await alice('GET', `${C}/rooms/${r}/messages?dir=f&limit=7&filter=${filter}${from ? `&from=${from}` : ''}`);
      fwd.push(...res.json.chunk.map((e: any) => e.event_id));
      if (res.json.chunk.length === 0) break;
      from = res.json.end;
    }
    assert.deepEqual(fwd, ids);
    // A sync token works as `from`; `to` bounds the page.
    const all = await alice('GET', `${C}/rooms/${r}/messages?dir=b&limit=3&from=s${f.notifier.current}_0`);
    assert.equal(all.json.chunk[0].event_id, ids[24]);
    const firstPage = await alice('GET', `${C}/rooms/${r}/messages?dir=b&limit=5`);
    const bounded = await alice('GET', `${C}/rooms/${r}/messages?dir=b&limit=50&to=${firstPage.json.end}`);
    assert.deepEqual(bounded.json.chunk.map((e: any) => e.event_id), firstPage.json.chunk.map((e: any) => e.event_id));
    // Senders filter and lazy loading of members.
    const lazy = enc(JSON.stringify({ senders: [uid('bob')], lazy_load_members: true }));
    const onlyBob = await alice('GET', `${C}/rooms/${r}/messages?dir=b&limit=5&filter=${lazy}`);
    assert.ok(onlyBob.json.chunk.every((e: any) => e.sender === uid('bob')));
    assert.deepEqual(onlyBob.json.state.map((e: any) => e.state_key), [uid('bob')]);
    // Errors.
    assert.equal((await alice('GET', `${C}/rooms/${r}/messages?dir=x`)).status, 400);
    assert.equal((await alice('GET', `${C}/rooms/${r}/messages?dir=b&from=garbage`)).json.errcode, 'M_INVALID_PARAM');
    assert.equal((await alice('GET', `${C}/rooms/${r}/messages?dir=b&filter=%7Bbad`)).json.errcode, 'M_INVALID_PARAM');
    assert.equal((await alice('GET', `${C}/rooms/${r}/messages?dir=b&limit=-1`)).status, 400);
    assert.equal((await f.as('carol')('GET', `${C}/rooms/${r}/messages?dir=b`)).status, 403);
  } finally {
    await f.close();
  }
});

test('messages: at the oldest event held, the backfill round outcome decides the end token', async () => {
  const f = await startRoomsFixture();
  try {
    const roomId = await room(f);
    const r = enc(roomId);
    const alice = f.as('alice');
    for (let i = 0; i < 3; i++) await alice('PUT', `${C}/rooms/${r}/send/m.room.message/b${i}`, text(`m${i}`));
    let outcome: BackfillOutcome = 'complete';
    const rounds: string[] = [];
    f.rooms.timeline.useBackfill({
      fetch: async (id) => {
        rounds.push(id);
        return outcome;
      },
    });
    // A page that does not reach the oldest event held needs no round.
    const partial = await alice('GET', `${C}/rooms/${r}/messages?dir=b&limit=2`);
    assert.equal(typeof partial.json.end, 'string');
    assert.deepEqual(rounds, []);
    // 'complete': the room starts here, no end.
    const whole = await alice('GET', `${C}/rooms/${r}/messages?dir=b&limit=50`);
    assert.equal(whole.json.end, undefined);
    assert.deepEqual(rounds, [roomId]);
    // 'pending': older history exists elsewhere, so a page with events keeps an end; an empty
    // page ends it.
    outcome = 'pending';
    const pending = await alice('GET', `${C}/rooms/${r}/messages?dir=b&limit=50`);
    assert.deepEqual(pending.json.chunk.map((e: any) => e.event_id), whole.json.chunk.map((e: any) => e.event_id));
    assert.equal(typeof pending.json.end, 'string');
    const empty = await alice('GET', `${C}/rooms/${r}/messages?dir=b&limit=50&from=${enc(pending.json.end)}`);
    assert.deepEqual([empty.json.chunk, empty.json.end], [[], undefined]);
    // 'backfilled': the page is read again (nothing was stored here, so the same page).
    outcome = 'backfilled';
    const again = await alice('GET', `${C}/rooms/${r}/messages?dir=b&limit=50`);
    assert.deepEqual(again.json.chunk.map((e: any) => e.event_id), whole.json.chunk.map((e: any) => e.event_id));
    assert.equal(again.json.end, undefined);
    assert.equal(rounds.length, 4, 'one round per page that reached the oldest event');
  } finally {
    await f.close();
  }
});

test('history visibility on /messages, /context and /event', async () => {
  const f = await startRoomsFixture();
  try {
    const alice = f.as('alice');
    const bob = f.as('bob');
    const carol = f.as('carol');
    // joined: Bob sees nothing from before his join.
    const roomId = await room(f, { initial_state: [{ type: 'm.room.history_visibility', content: { history_visibility: 'joined' } }] });
    const r = enc(roomId);
    const before = (await alice('PUT', `${C}/rooms/${r}/send/m.room.message/h1`, text('before'))).json.event_id;
    await bob('POST', `${C}/join/${r}`, {});
    const after = (await alice('PUT', `${C}/rooms/${r}/send/m.room.message/h2`, text('after'))).json.event_id;
    const msgs = await bob('GET', `${C}/rooms/${r}/messages?dir=b&limit=50`);
    const seen = msgs.json.chunk.map((e: any) => e.event_id);
    assert.ok(seen.includes(after));
    assert.ok(!seen.includes(before));
    assert.equal((await bob('GET', `${C}/rooms/${r}/event/${enc(before)}`)).status, 404);
    assert.equal((await bob('GET', `${C}/rooms/${r}/context/${enc(before)}`)).status, 404);
    const ctx = await bob('GET', `${C}/rooms/${r}/context/${enc(after)}?limit=20`);
    assert.equal(ctx.status, 200);
    assert.ok(!ctx.json.events_before.some((e: any) => e.event_id === before));
    // After leaving, Bob sees nothing new.
    await bob('POST', `${C}/rooms/${r}/leave`, {});
    const later = (await alice('PUT', `${C}/rooms/${r}/send/m.room.message/h3`, text('later'))).json.event_id;
    const afterLeave = await bob('GET', `${C}/rooms/${r}/messages?dir=b&limit=50`);
    assert.ok(!afterLeave.json.chunk.some((e: any) => e.event_id === later));
    assert.ok(afterLeave.json.chunk.some((e: any) => e.event_id === after));

    // shared: Carol sees history from before her join once she joined.
    const shared = enc(await room(f));
    const old = (await alice('PUT', `${C}/rooms/${shared}/send/m.room.message/s1`, text('old'))).json.event_id;
    assert.equal((await carol('GET', `${C}/rooms/${shared}/messages?dir=b`)).status, 403);
    await carol('POST', `${C}/join/${shared}`, {});
    const carolSees = await carol('GET', `${C}/rooms/${shared}/messages?dir=b&limit=50`);
    assert.ok(carolSees.json.chunk.some((e: any) => e.event_id === old));

    // invited: visible from the invite on.
    const invited = enc(await room(f, { preset: 'private_chat', initial_state: [{ type: 'm.room.history_visibility', content: { history_visibility: 'invited' } }] }));
    const pre = (await alice('PUT', `${C}/rooms/${invited}/send/m.room.message/i1`, text('pre'))).json.event_id;
    await alice('POST', `${C}/rooms/${invited}/invite`, { user_id: uid('dave') });
    const post = (await alice('PUT', `${C}/rooms/${invited}/send/m.room.message/i2`, text('post'))).json.event_id;
    await f.as('dave')('POST', `${C}/join/${invited}`, {});
    const daveSees = (await f.as('dave')('GET', `${C}/rooms/${invited}/messages?dir=b&limit=50`)).json.chunk.map((e: any) => e.event_id);
    assert.ok(daveSees.includes(post));
    assert.ok(!daveSees.includes(pre));

    // world_readable: anyone may read without joining.
    const world = enc(await room(f, { initial_state: [{ type: 'm.room.history_visibility', content: { history_visibility: 'world_readable' } }] }));
    const w = (await alice('PUT', `${C}/rooms/${world}/send/m.room.message/w1`, text('public'))).json.event_id;
    const peek = await f.as('eve')('GET', `${C}/rooms/${world}/messages?dir=b&limit=50`);
    assert.equal(peek.status, 200);
    assert.ok(peek.json.chunk.some((e: any) => e.event_id === w));
    assert.equal((await f.as('eve')('GET', `${C}/rooms/${world}/event/${enc(w)}`)).status, 200);
  } finally {
    await f.close();
  }
});

test('context, event and timestamp_to_event', async () => {
  const f = await startRoomsFixture();
  try {
    const r = enc(await room(f));
    const alice = f.as('alice');
    const ids: string[] = [];
    for (let i = 0; i < 9; i++) ids.push((await alice('PUT', `${C}/rooms/${r}/send/m.room.message/c${i}`, text(`c${i}`))).json.event_id);
    const ctx = await alice('GET', `${C}/rooms/${r}/context/${enc(ids[4]!)}?limit=4`);
    assert.equal(ctx.status, 200);
    assert.equal(ctx.json.event.event_id, ids[4]);
    assert.deepEqual(ctx.json.events_before.map((e: any) => e.event_id), [ids[3], ids[2]]);
    assert.deepEqual(ctx.json.events_after.map((e: any) => e.event_id), [ids[5], ids[6]]);
    assert.ok(ctx.json.state.some((e: any) => e.type === 'm.room.create'));
    // The tokens continue the timeline on both sides.
    const back = await alice('GET', `${C}/rooms/${r}/messages?dir=b&limit=1&from=${ctx.json.start}`);
    assert.equal(back.json.chunk[0].event_id, ids[1]);
    const fwd = await alice('GET', `${C}/rooms/${r}/messages?dir=f&limit=1&from=${ctx.json.end}`);
    assert.equal(fwd.json.chunk[0].event_id, ids[7]);
    assert.equal((await alice('GET', `${C}/rooms/${r}/context/${enc('$missing')}`)).status, 404);
    assert.equal((await alice('GET', `${C}/rooms/${r}/event/${enc('$missing')}`)).json.errcode, 'M_NOT_FOUND');

    const ev = await alice('GET', `${C}/rooms/${r}/event/${enc(ids[0]!)}`);
    const ts = ev.json.origin_server_ts;
    const fwdTs = await alice('GET', `${V1}/rooms/${r}/timestamp_to_event?ts=${ts}&dir=f`);
    assert.equal(fwdTs.status, 200);
    assert.equal(fwdTs.json.origin_server_ts >= ts, true);
    const none = await alice('GET', `${V1}/rooms/${r}/timestamp_to_event?ts=${ts + 10_000_000}&dir=f`);
    assert.equal(none.status, 404);
    const bad = await alice('GET', `${V1}/rooms/${r}/timestamp_to_event?ts=abc&dir=f`);
    assert.equal(bad.status, 400);
    assert.equal((await alice('GET', `${C}/rooms/${r}/timestamp_to_event?ts=1&dir=f`)).status, 404, 'v1 only');
  } finally {
    await f.close();
  }
});

test('relations, aggregations (thread, edit, reference) and the threads list', async () => {
  const f = await startRoomsFixture();
  try {
    const r = enc(await room(f));
    const alice = f.as('alice');
    const bob = f.as('bob');
    await bob('POST', `${C}/join/${r}`, {});
    const root = (await alice('PUT', `${C}/rooms/${r}/send/m.room.message/root`, text('root'))).json.event_id;
    const thread = (i: number, who = bob) =>
      who('PUT', `${C}/rooms/${r}/send/m.room.message/t${i}`, { ...text(`t${i}`), 'm.relates_to': { rel_type: 'm.thread', event_id: root } });
    const t1 = (await thread(1)).json.event_id;
    const t2 = (await thread(2)).json.event_id;
    const edit = (
      await alice('PUT', `${C}/rooms/${r}/send/m.room.message/e1`, {
        ...text('* root2'),
        'm.new_content': text('root2'),
        'm.relates_to': { rel_type: 'm.replace', event_id: root },
      })
    ).json.event_id;
    // An edit by someone else is not a valid replacement.
    await bob('PUT', `${C}/rooms/${r}/send/m.room.message/e2`, { ...text('* hijack'), 'm.relates_to': { rel_type: 'm.replace', event_id: root } });
    const ref = (await bob('PUT', `${C}/rooms/${r}/send/m.room.message/ref`, { ...text('see'), 'm.relates_to': { rel_type: 'm.reference', event_id: root } })).json.event_id;

    const ev = await bob('GET', `${C}/rooms/${r}/event/${enc(root)}`);
    const rel = ev.json.unsigned['m.relations'];
    assert.equal(rel['m.thread'].count, 2);
    assert.equal(rel['m.thread'].latest_event.event_id, t2);
    assert.equal(rel['m.thread'].current_user_participated, true);
    assert.equal(rel['m.replace'].event_id, edit);
    assert.deepEqual(rel['m.reference'], { chunk: [{ event_id: ref }] });
    const carolView = await f.as('carol')('POST', `${C}/join/${r}`, {});
    assert.equal(carolView.status, 200);
    const carolEv = await f.as('carol')('GET', `${C}/rooms/${r}/event/${enc(root)}`);
    assert.equal(carolEv.json.unsigned['m.relations']['m.thread'].current_user_participated, false);

    const all = await alice('GET', `${V1}/rooms/${r}/relations/${enc(root)}`);
    assert.equal(all.status, 200);
    assert.equal(all.json.chunk.length, 5);
    assert.equal(all.json.chunk[0].event_id, ref, 'newest first by default');
    const threads = await alice('GET', `${V1}/rooms/${r}/relations/${enc(root)}/m.thread?dir=f&limit=1`);
    assert.deepEqual(threads.json.chunk.map((e: any) => e.event_id), [t1]);
    const next = await alice('GET', `${V1}/rooms/${r}/relations/${enc(root)}/m.thread?dir=f&limit=1&from=${threads.json.next_batch}`);
    assert.deepEqual(next.json.chunk.map((e: any) => e.event_id), [t2]);
    assert.equal(next.json.next_batch, undefined);
    const byType = await alice('GET', `${V1}/rooms/${r}/relations/${enc(root)}/m.reference/m.room.message`);
    assert.deepEqual(byType.json.chunk.map((e: any) => e.event_id), [ref]);
    assert.equal((await alice('GET', `${V1}/rooms/${r}/relations/${enc('$nope')}`)).status, 404);
    assert.equal((await alice('GET', `${C}/rooms/${r}/relations/${enc(root)}`)).status, 404, 'v1 only');

    // Redacting the edit removes it from the aggregation.
    await alice('PUT', `${C}/rooms/${r}/redact/${enc(edit)}/x`, {});
    const afterRedact = await bob('GET', `${C}/rooms/${r}/event/${enc(root)}`);
    assert.equal(afterRedact.json.unsigned['m.relations']['m.replace'], undefined);

    // Threads list.
    const root2 = (await alice('PUT', `${C}/rooms/${r}/send/m.room.message/root2`, text('second root'))).json.event_id;
    await alice('PUT', `${C}/rooms/${r}/send/m.room.message/t9`, { ...text('t9'), 'm.relates_to': { rel_type: 'm.thread', event_id: root2 } });
    const list = await bob('GET', `${V1}/rooms/${r}/threads`);
    assert.deepEqual(list.json.chunk.map((e: any) => e.event_id), [root2, root]);
    const page = await bob('GET', `${V1}/rooms/${r}/threads?limit=1`);
    assert.deepEqual(page.json.chunk.map((e: any) => e.event_id), [root2]);
    const page2 = await bob('GET', `${V1}/rooms/${r}/threads?limit=1&from=${page.json.next_batch}`);
    assert.deepEqual(page2.json.chunk.map((e: any) => e.event_id), [root]);
    const participated = await bob('GET', `${V1}/rooms/${r}/threads?include=participated`);
    assert.deepEqual(participated.json.chunk.map((e: any) => e.event_id), [root]);
    assert.equal((await bob('GET', `${V1}/rooms/${r}/threads?include=some`)).status, 400);
  } finally {
    await f.close();
  }
});
