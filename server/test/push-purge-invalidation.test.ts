/**
 * Unread notification counts (services/push/counts.ts PushCounts keeps them between syncs) when a
 * WHOLE room is deleted through Synapse's admin API (DELETE /_synapse/admin/v2/rooms/{roomId},
 * admin_api/rooms.md; services/admin/synapse-rooms.ts): the deleted room's counts are not served
 * from the kept tallies afterwards (the room leaves the user's sync: it is left, forgotten and
 * purged), /notifications no longer lists its events, and the counts of the user's other rooms
 * stay exact, before and after new messages and a read receipt. The history purge counterpart is
 * in storage-care.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Session } from './federation-harness.ts';
import { registerAdmin, startTestServer, type TestServer } from './harness.ts';
import { gateway } from './push-gateway.ts';

const SECRET = 's';
const enc = encodeURIComponent;

describe('unread counts after a whole room is deleted', () => {
  let s: TestServer;
  let root: Session;

  before(async () => {
    s = await startTestServer({ registrationSharedSecret: SECRET });
    const r = await registerAdmin(s, SECRET);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    root = r.json;
  });
  after(() => s.close());

  let txn = 0;
  const say = async (who: Session, roomId: string, body: string): Promise<string> => {
    const r = await s.request('PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/t${++txn}`, { token: who.access_token, body: { msgtype: 'm.text', body } });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return r.json.event_id;
  };
  const sync = async (who: Session, since?: string): Promise<any> => {
    const r = await s.request('GET', `/_matrix/client/v3/sync?timeout=0${since ? `&since=${enc(since)}` : ''}`, { token: who.access_token });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return r.json;
  };
  const sharedRoom = async (owner: Session, member: Session): Promise<string> => {
    const created = await s.request('POST', '/_matrix/client/v3/createRoom', { token: owner.access_token, body: { preset: 'public_chat' } });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    const roomId = created.json.room_id as string;
    assert.equal((await s.request('POST', `/_matrix/client/v3/join/${enc(roomId)}`, { token: member.access_token, body: {} })).status, 200);
    return roomId;
  };
  /** Deletes the room (v2, purged) and waits for the task to finish. */
  const deleteRoom = async (roomId: string, body: Record<string, unknown>): Promise<any> => {
    const del = await s.request('DELETE', `/_synapse/admin/v2/rooms/${enc(roomId)}`, { token: root.access_token, body });
    assert.equal(del.status, 200, JSON.stringify(del.json));
    for (let i = 0; i < 200; i++) {
      const r = await s.request('GET', `/_synapse/admin/v2/rooms/delete_status/${enc(del.json.delete_id)}`, { token: root.access_token });
      if (r.json.status === 'complete' || r.json.status === 'failed') return r.json;
      await new Promise((res) => setTimeout(res, 20));
    }
    throw new Error('timed out waiting for the room deletion');
  };

  it('drops the deleted room\'s counts and keeps the other rooms\' exact', async () => {
    const alice = await s.registerUser('alice');
    const bob = await s.registerUser('bob');
    const doomed = await sharedRoom(alice, bob);
    const kept = await sharedRoom(alice, bob);
    for (let i = 1; i <= 3; i++) await say(alice, doomed, `doomed ${i}`);
    await say(alice, kept, 'kept 1');
    const keptLast = await say(alice, kept, 'kept 2');

    // Bob's sync counts (and keeps the tallies for) both rooms.
    const first = await sync(bob);
    assert.equal(first.rooms.join[doomed].unread_notifications.notification_count, 3);
    assert.equal(first.rooms.join[kept].unread_notifications.notification_count, 2);
    const notifications = async (): Promise<any[]> => {
      const r = await s.request('GET', '/_matrix/client/v3/notifications', { token: bob.access_token });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      return r.json.notifications;
    };
    assert.equal((await notifications()).filter((n) => n.room_id === doomed).length, 3);

    const status = await deleteRoom(doomed, { purge: true, block: true });
    assert.equal(status.status, 'complete', JSON.stringify(status));
    assert.ok(status.shutdown_room.kicked_users.includes(bob.user_id), 'bob was removed from the room');

    // The incremental sync after the cached one: the deleted room is no longer joined, and
    // nowhere does it come with counts.
    const next = await sync(bob, first.next_batch);
    assert.equal(next.rooms?.join?.[doomed], undefined, 'the deleted room is not in join');
    assert.equal(next.rooms?.leave?.[doomed]?.unread_notifications?.notification_count ?? 0, 0);
    // An initial sync does not show it at all (left and forgotten), the other room is exact.
    const fresh = await sync(bob);
    assert.equal(fresh.rooms?.join?.[doomed], undefined);
    assert.equal(fresh.rooms?.leave?.[doomed], undefined);
    assert.equal(fresh.rooms.join[kept].unread_notifications.notification_count, 2);
    assert.deepEqual(await notifications().then((ns) => ns.filter((n) => n.room_id === doomed)), []);

    // The other room's kept tally goes on counting, and recounts after a read receipt.
    await say(alice, kept, 'kept 3');
    const more = await sync(bob, fresh.next_batch);
    assert.equal(more.rooms.join[kept].unread_notifications.notification_count, 3);
    assert.equal(more.rooms.join[doomed], undefined);
    const read = await s.request('POST', `/_matrix/client/v3/rooms/${enc(kept)}/receipt/m.read/${enc(keptLast)}`, { token: bob.access_token, body: {} });
    assert.equal(read.status, 200, JSON.stringify(read.json));
    assert.equal((await sync(bob)).rooms.join[kept].unread_notifications.notification_count, 1);
  });

  it('leaves a room deleted without purge out of the push gateway badge (counts.unread)', async (t) => {
    // Without purge the room's rows stay, but every local member left and forgot it: like
    // Synapse's badge (joined rooms only), its unread messages must not count any more.
    const carol = await s.registerUser('carol');
    const dave = await s.registerUser('dave');
    const doomed = await sharedRoom(carol, dave);
    const kept = await sharedRoom(carol, dave);
    const gw = await gateway(t);
    const set = await s.request('POST', '/_matrix/client/v3/pushers/set', {
      token: dave.access_token,
      body: { kind: 'http', app_id: 'org.example.app', pushkey: 'DAVE', app_display_name: 'Example', device_display_name: 'Phone', lang: 'en', data: { url: gw.url } },
    });
    assert.equal(set.status, 200, JSON.stringify(set.json));
    for (let i = 1; i <= 2; i++) await say(carol, doomed, `gone ${i}`);
    await say(carol, kept, 'kept 1');
    const before = await gw.next((b) => b.notification?.content?.body === 'kept 1');
    assert.equal(before.notification.counts.unread, 3, 'both rooms counted while dave is in both');
    assert.equal((await sync(dave)).rooms.join[doomed].unread_notifications.notification_count, 2);

    const status = await deleteRoom(doomed, { purge: false });
    assert.equal(status.status, 'complete', JSON.stringify(status));
    const fresh = await sync(dave);
    assert.equal(fresh.rooms?.join?.[doomed], undefined);
    assert.equal(fresh.rooms.join[kept].unread_notifications.notification_count, 1);

    await say(carol, kept, 'kept 2');
    const afterDelete = await gw.next((b) => b.notification?.content?.body === 'kept 2');
    assert.equal(afterDelete.notification.counts.unread, 2, 'only the joined room counts');
  });
});
