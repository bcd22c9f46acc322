/**
 * Destination health through Synapse's federation admin API (admin_api/federation.md): a
 * to-device message for a user on an unreachable server queues an EDU whose transaction fails;
 * the destination shows the failure, the backoff and the queue, and reset_connection retries it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registerAdmin, startTestServer } from './harness.ts';

const SECRET = 'fed-admin-secret';
const D = '/_synapse/admin/v1/federation/destinations';

test('the federation admin API shows a failing destination and resets its backoff', async () => {
  const s = await startTestServer({ registrationSharedSecret: SECRET, federationAllowPrivateAddresses: true, federationRetryMinMs: 60_000 });
  try {
    const root = (await registerAdmin(s, SECRET)).json;
    const alice = await s.registerUser('alice');

    // Nothing listens on port 1 (a free port found now could be bound by another test before the
    // send): the transaction fails.
    const dest = '127.0.0.1:1';
    const sent = await s.request('PUT', '/_matrix/client/v3/sendToDevice/m.test/t1', {
      token: alice.access_token,
      body: { messages: { [`@zed:${dest}`]: { DEV: { hello: 1 } } } },
    });
    assert.equal(sent.status, 200);

    let list: any;
    for (let i = 0; i < 200; i++) {
      list = (await s.request('GET', D, { token: root.access_token })).json;
      if (list.destinations?.[0]?.retry_interval > 0) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(list.total, 1);
    const d = list.destinations[0];
    assert.equal(d.destination, dest);
    assert.equal(d.retry_interval, 60_000);
    assert.ok(d.retry_last_ts > 0 && d.failure_ts > 0);
    assert.ok(d.last_failure_reason.length > 0);
    assert.equal(d.queued_edus, 1);
    assert.equal(d.last_success_ts, null);

    const one = await s.request('GET', `${D}/${encodeURIComponent(dest)}`, { token: root.access_token });
    assert.equal(one.status, 200);
    assert.equal(one.json.destination, dest);
    const rooms = await s.request('GET', `${D}/${encodeURIComponent(dest)}/rooms`, { token: root.access_token });
    assert.deepEqual(rooms.json, { rooms: [], total: 0 });
    assert.equal((await s.request('GET', `${D}/nowhere.test`, { token: root.access_token })).status, 404);
    assert.equal((await s.request('GET', D, { token: alice.access_token })).status, 403);
    assert.equal((await s.request('GET', `${D}?limit=-1`, { token: root.access_token })).status, 400);

    const reset = await s.request('POST', `${D}/${encodeURIComponent(dest)}/reset_connection`, { token: root.access_token, body: {} });
    assert.equal(reset.status, 200, JSON.stringify(reset.json));
    // Retried at once: it fails again and backs off from the minimum.
    for (let i = 0; i < 200; i++) {
      const again = (await s.request('GET', `${D}/${encodeURIComponent(dest)}`, { token: root.access_token })).json;
      if (again.retry_last_ts > d.retry_last_ts) {
        assert.equal(again.retry_interval, 60_000);
        return;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.fail('the reset destination was not retried');
  } finally {
    await s.close();
  }
});
