/**
 * Two Hearth servers over real TLS (federation-harness.ts): a user of A invites a user of B, who
 * joins through make_join/send_join; messages, typing and receipts flow both ways; B goes down
 * while A keeps talking and catches up after its restart, each event exactly once. Needs the
 * receiving side (PUT /send, make_join/send_join, /invite); skipped while it is not mounted.
 * A second scenario (invited at createRoom): an edit from B, a redaction from A, and presence
 * both ways (federationSendPresence on).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFederation, type FederatedServer, until, type Session } from './federation-harness.ts';

async function bodies(s: FederatedServer, who: Session, roomId: string): Promise<string[]> {
  const r = await s.request('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=100`, { token: who.access_token });
  if (r.status !== 200) return [];
  return (r.json.chunk as { type: string; content: { body?: string } }[])
    .filter((e) => e.type === 'm.room.message')
    .map((e) => e.content.body!)
    .reverse();
}

async function send(s: FederatedServer, who: Session, roomId: string, body: string): Promise<string> {
  const r = await s.request('PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${body.replace(/\W/g, '')}${Date.now()}`, {
    token: who.access_token,
    body: { msgtype: 'm.text', body },
  });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json.event_id;
}

/** The room's ephemeral events in a user's next sync (from `since`). */
async function ephemeral(s: FederatedServer, who: Session, roomId: string, type: string): Promise<any[]> {
  const r = await s.request('GET', '/_matrix/client/v3/sync?timeout=0', { token: who.access_token });
  return ((r.json?.rooms?.join?.[roomId]?.ephemeral?.events ?? []) as { type: string }[]).filter((e) => e.type === type);
}

/** Whether the receiving side is mounted yet (make_join answers something other than "unrecognized"). */
async function receiverMounted(): Promise<boolean> {
  const [probe] = await startFederation(1);
  try {
    const r = await probe!.request('GET', '/_matrix/federation/v1/make_join/!x:y/@a:y');
    return !(r.status === 404 && r.json?.errcode === 'M_UNRECOGNIZED');
  } finally {
    await probe!.close();
  }
}

const ready = await receiverMounted();

test('A invites B, B joins; messages, typing, receipts both ways; B catches up after being down', { skip: ready ? false : 'the federation receiving side is not mounted yet' }, async () => {
  const [a, b] = await startFederation(2, { settings: { federationRetryMinMs: 200 } });
  try {
    const alice: Session = await a!.registerUser('alice');
    const bob: Session = await b!.registerUser('bob');

    const created = await a!.request('POST', '/_matrix/client/v3/createRoom', { token: alice.access_token, body: { preset: 'private_chat', name: 'Family' } });
    assert.equal(created.status, 200);
    const roomId: string = created.json.room_id;

    const invited = await a!.request('POST', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/invite`, { token: alice.access_token, body: { user_id: bob.user_id } });
    assert.equal(invited.status, 200, JSON.stringify(invited.json));

    const joined = await b!.request('POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, { token: bob.access_token, body: {} });
    assert.equal(joined.status, 200, JSON.stringify(joined.json));
    assert.equal(joined.json.room_id, roomId);
    await until('alice to see bob joined', async () => {
      const r = await a!.request('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/joined_members`, { token: alice.access_token });
      return r.json?.joined?.[bob.user_id] ? true : undefined;
    });

    // Messages both ways.
    const fromAlice = await send(a!, alice, roomId, 'hello from A');
    await until('bob to get alice\'s message', async () => ((await bodies(b!, bob, roomId)).includes('hello from A') ? true : undefined));
    await send(b!, bob, roomId, 'hello from B');
    await until('alice to get bob\'s message', async () => ((await bodies(a!, alice, roomId)).includes('hello from B') ? true : undefined));

    // Typing both ways.
    await a!.request('PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/typing/${encodeURIComponent(alice.user_id)}`, { token: alice.access_token, body: { typing: true, timeout: 30_000 } });
    await until('bob to see alice typing', async () => ((await ephemeral(b!, bob, roomId, 'm.typing')).some((e) => e.content.user_ids.includes(alice.user_id)) ? true : undefined));
    await b!.request('PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/typing/${encodeURIComponent(bob.user_id)}`, { token: bob.access_token, body: { typing: true, timeout: 30_000 } });
    await until('alice to see bob typing', async () => ((await ephemeral(a!, alice, roomId, 'm.typing')).some((e) => e.content.user_ids.includes(bob.user_id)) ? true : undefined));

    // Receipts both ways.
    const r1 = await b!.request('POST', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/receipt/m.read/${encodeURIComponent(fromAlice)}`, { token: bob.access_token, body: {} });
    assert.equal(r1.status, 200);
    await until('alice to see bob\'s receipt', async () => ((await ephemeral(a!, alice, roomId, 'm.receipt')).some((e) => e.content[fromAlice]?.['m.read']?.[bob.user_id]) ? true : undefined));
    const fromBob = (await b!.request('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=1`, { token: bob.access_token })).json.chunk[0].event_id;
    await a!.request('POST', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/receipt/m.read/${encodeURIComponent(fromBob)}`, { token: alice.access_token, body: {} });
    await until('bob to see alice\'s receipt', async () => ((await ephemeral(b!, bob, roomId, 'm.receipt')).some((e) => e.content[fromBob]?.['m.read']?.[alice.user_id]) ? true : undefined));

    // B goes down; A keeps talking; B catches up after its restart.
    await b!.hs.stop();
    for (let i = 1; i <= 5; i++) await send(a!, alice, roomId, `while B was down ${i}`);
    await b!.restart();
    const expected = ['hello from A', 'hello from B', ...Array.from({ length: 5 }, (_, i) => `while B was down ${i + 1}`)];
    const seen = await until('bob to catch up', async () => {
      const got = await bodies(b!, bob, roomId);
      return got.length >= expected.length ? got : undefined;
    });
    assert.deepEqual(seen, expected, 'every event exactly once, in order');
  } finally {
    await Promise.all([a!.close(), b!.close()]);
  }
});

/** Alice (A) and Bob (B) joined to one private room on A. */
async function sharedRoom(a: FederatedServer, b: FederatedServer): Promise<{ alice: Session; bob: Session; roomId: string }> {
  const alice: Session = await a.registerUser('alice');
  const bob: Session = await b.registerUser('bob');
  const created = await a.request('POST', '/_matrix/client/v3/createRoom', { token: alice.access_token, body: { preset: 'private_chat', invite: [bob.user_id] } });
  assert.equal(created.status, 200, JSON.stringify(created.json));
  const roomId: string = created.json.room_id;
  await until('bob to be invited', async () => {
    const r = await b.request('GET', '/_matrix/client/v3/sync?timeout=0', { token: bob.access_token });
    return r.json?.rooms?.invite?.[roomId] ? true : undefined;
  });
  const joined = await b.request('POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, { token: bob.access_token, body: {} });
  assert.equal(joined.status, 200, JSON.stringify(joined.json));
  await until('alice to see bob joined', async () => {
    const r = await a.request('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/joined_members`, { token: alice.access_token });
    return r.json?.joined?.[bob.user_id] ? true : undefined;
  });
  return { alice, bob, roomId };
}

/** One event of the room as a user's /messages shows it. */
async function eventOf(s: FederatedServer, who: Session, roomId: string, eventId: string): Promise<any> {
  const r = await s.request('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=100`, { token: who.access_token });
  return (r.json?.chunk as { event_id: string }[] | undefined)?.find((e) => e.event_id === eventId);
}

test('edits, redactions and presence both ways', { skip: ready ? false : 'the federation receiving side is not mounted yet' }, async () => {
  const [a, b] = await startFederation(2, { settings: { federationSendPresence: true } });
  try {
    const { alice, bob, roomId } = await sharedRoom(a!, b!);
    const room = encodeURIComponent(roomId);

    // Bob (B) edits his message; alice (A) sees the edit in /messages, the bundled m.replace and /relations.
    const original = await send(b!, bob, roomId, 'helo');
    const edit = await b!.request('PUT', `/_matrix/client/v3/rooms/${room}/send/m.room.message/edit${Date.now()}`, {
      token: bob.access_token,
      body: { msgtype: 'm.text', body: '* hello', 'm.new_content': { msgtype: 'm.text', body: 'hello' }, 'm.relates_to': { rel_type: 'm.replace', event_id: original } },
    });
    assert.equal(edit.status, 200, JSON.stringify(edit.json));
    const editId: string = edit.json.event_id;
    const seen = await until('alice to see the edit', async () => {
      const e = await eventOf(a!, alice, roomId, original);
      return e?.unsigned?.['m.relations']?.['m.replace'] ? e : undefined;
    });
    assert.equal(seen.unsigned['m.relations']['m.replace'].event_id, editId);
    assert.equal(seen.unsigned['m.relations']['m.replace'].content['m.new_content'].body, 'hello');
    assert.equal((await eventOf(a!, alice, roomId, editId))?.content['m.relates_to'].rel_type, 'm.replace');
    const relations = await a!.request('GET', `/_matrix/client/v1/rooms/${room}/relations/${encodeURIComponent(original)}/m.replace`, { token: alice.access_token });
    assert.equal(relations.status, 200, JSON.stringify(relations.json));
    assert.deepEqual(relations.json.chunk.map((e: any) => e.event_id), [editId]);

    // Alice redacts her message; bob's copy is redacted.
    const doomed = await send(a!, alice, roomId, 'oops, wrong room');
    await until('bob to get the message', async () => ((await eventOf(b!, bob, roomId, doomed)) ? true : undefined));
    const redaction = await a!.request('PUT', `/_matrix/client/v3/rooms/${room}/redact/${encodeURIComponent(doomed)}/r${Date.now()}`, {
      token: alice.access_token,
      body: { reason: 'typo' },
    });
    assert.equal(redaction.status, 200, JSON.stringify(redaction.json));
    const redacted = await until('bob to see the redaction', async () => {
      const e = await eventOf(b!, bob, roomId, doomed);
      return e?.unsigned?.redacted_because ? e : undefined;
    });
    assert.deepEqual(redacted.content, {});
    assert.equal(redacted.unsigned.redacted_because.event_id, redaction.json.event_id);
    assert.equal(redacted.unsigned.redacted_because.content.reason, 'typo');

    // Presence both ways, in the other side's sync.
    const presenceOf = async (s: FederatedServer, who: Session, userId: string): Promise<any> => {
      const r = await s.request('GET', '/_matrix/client/v3/sync?timeout=0', { token: who.access_token });
      return (r.json?.presence?.events as { sender: string; content: any }[] | undefined)?.find((e) => e.sender === userId)?.content;
    };
    const setPresence = async (s: FederatedServer, who: Session, body: Record<string, unknown>): Promise<void> => {
      const r = await s.request('PUT', `/_matrix/client/v3/presence/${encodeURIComponent(who.user_id)}/status`, { token: who.access_token, body });
      assert.equal(r.status, 200, JSON.stringify(r.json));
    };
    await setPresence(a!, alice, { presence: 'unavailable', status_msg: 'gardening' });
    const aliceOnB = await until('bob to see alice\'s presence', async () => {
      const p = await presenceOf(b!, bob, alice.user_id);
      return p?.presence === 'unavailable' ? p : undefined;
    });
    assert.equal(aliceOnB.status_msg, 'gardening');
    await setPresence(b!, bob, { presence: 'online', status_msg: 'cooking' });
    const bobOnA = await until('alice to see bob\'s presence', async () => {
      const p = await presenceOf(a!, alice, bob.user_id);
      return p?.status_msg === 'cooking' ? p : undefined;
    });
    assert.equal(bobOnA.presence, 'online');
  } finally {
    await Promise.all([a!.close(), b!.close()]);
  }
});
