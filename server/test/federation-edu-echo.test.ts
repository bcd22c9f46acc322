/**
 * EDUs received from a remote server are never sent back to it, nor sent on as if they were
 * ours (spec: server-server "Typing Notifications", "Receipts", "Presence", "Device Management",
 * "Send-to-device messaging": a server sends EDUs about its own users). Three real Hearth
 * servers share a room on A (federation-harness.ts); B's and C's federation listeners sit behind
 * recording TLS proxies, so every transaction A sends them is seen. Bob (B) types, reads, changes
 * presence, renames his device and sends a to-device message; alice's sync on A shows each of
 * them (the EDUs arrived), and A's transactions to B and to C carry alice's EDUs and none about
 * B's users.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request as httpsRequest, createServer as createHttpsServer } from 'node:https';
import { userIdServerName } from '../core/ids.ts';
import { freePort, federationTestSettings, startFederatedServer, testCa, until, type Session } from './federation-harness.ts';
import { startTestServer, type TestServer } from './harness.ts';

interface Transaction {
  origin: string;
  pdus?: { sender?: string }[];
  edus?: { edu_type: string; content: any }[];
}

/**
 * A Hearth whose server name points at a TLS proxy in front of its federation listener: the
 * proxy passes every request through unchanged and records the transactions (PUT /send) it gets.
 */
async function startRecordedServer(settings: Record<string, unknown>): Promise<{ server: TestServer; serverName: string; received: Transaction[]; close(): Promise<void> }> {
  const ca = testCa();
  const [proxyPort, innerPort] = await Promise.all([freePort(), freePort()]);
  const serverName = `127.0.0.1:${proxyPort}`;
  const server = await startTestServer({ ...federationTestSettings(ca, innerPort), ...settings, serverName });
  const received: Transaction[] = [];
  const caCert = readFileSync(ca.caFile);
  const proxy = createHttpsServer({ cert: readFileSync(ca.certFile), key: readFileSync(ca.keyFile) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.method === 'PUT' && req.url?.startsWith('/_matrix/federation/v1/send/')) received.push(JSON.parse(body.toString('utf8')));
      const out = httpsRequest({ host: '127.0.0.1', port: innerPort, method: req.method, path: req.url, headers: req.headers, ca: caCert }, (upstream) => {
        res.writeHead(upstream.statusCode ?? 502, upstream.headers);
        upstream.pipe(res);
      });
      out.on('error', () => {
        res.statusCode = 502;
        res.end();
      });
      out.end(body);
    });
  });
  await new Promise<void>((r) => proxy.listen(proxyPort, '127.0.0.1', r));
  return {
    server,
    serverName,
    received,
    async close() {
      await new Promise<void>((r) => {
        proxy.close(() => r());
        proxy.closeAllConnections();
      });
      await server.close();
    },
  };
}

/** The users an EDU is about (whose typing, receipt, presence, devices, or who sent it). */
function eduUsers(edu: { edu_type: string; content: any }): string[] {
  const c = edu.content ?? {};
  switch (edu.edu_type) {
    case 'm.typing':
    case 'm.device_list_update':
    case 'm.signing_key_update':
      return [c.user_id];
    case 'm.receipt':
      return Object.values(c).flatMap((byType: any) => Object.values(byType ?? {}).flatMap((byUser: any) => Object.keys(byUser ?? {})));
    case 'm.presence':
      return (c.push ?? []).map((p: any) => p.user_id);
    case 'm.direct_to_device':
      return [c.sender];
    default:
      return [];
  }
}

test('EDUs from B reach A\'s clients and are never sent back to B nor relayed to C', { timeout: 30_000 }, async () => {
  const settings = { federationSendPresence: true, federationRetryMinMs: 200 };
  const [a, recorded, third] = await Promise.all([startFederatedServer({ settings }), startRecordedServer(settings), startRecordedServer(settings)]);
  const b = recorded.server;
  const c = third.server;
  const req = (s: TestServer, who: Session, method: string, path: string, body?: unknown) => s.request(method, path, { token: who.access_token, body });
  try {
    const alice = (await a.registerUser('alice')) as Session & { device_id: string };
    const bob = (await b.registerUser('bob')) as Session & { device_id: string };
    const carol = await c.registerUser('carol');
    assert.equal(userIdServerName(bob.user_id), recorded.serverName);

    const created = await req(a, alice, 'POST', '/_matrix/client/v3/createRoom', { preset: 'private_chat', invite: [bob.user_id, carol.user_id] });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    const roomId: string = created.json.room_id;
    const room = encodeURIComponent(roomId);
    await until('bob to be invited', async () => ((await req(b, bob, 'GET', '/_matrix/client/v3/sync?timeout=0')).json?.rooms?.invite?.[roomId] ? true : undefined));
    await until('carol to be invited', async () => ((await req(c, carol, 'GET', '/_matrix/client/v3/sync?timeout=0')).json?.rooms?.invite?.[roomId] ? true : undefined));
    for (const [s, who] of [[b, bob], [c, carol]] as const) {
      const joined = await req(s, who, 'POST', `/_matrix/client/v3/join/${room}`, {});
      assert.equal(joined.status, 200, JSON.stringify(joined.json));
    }
    await until('alice to see bob and carol joined', async () => {
      const j = (await req(a, alice, 'GET', `/_matrix/client/v3/rooms/${room}/joined_members`)).json?.joined;
      return j?.[bob.user_id] && j?.[carol.user_id] ? true : undefined;
    });
    const fromAlice = await req(a, alice, 'PUT', `/_matrix/client/v3/rooms/${room}/send/m.room.message/a1`, { msgtype: 'm.text', body: 'hi bob' });
    assert.equal(fromAlice.status, 200);
    await until('bob to get alice\'s message', async () => {
      const r = await req(b, bob, 'GET', `/_matrix/client/v3/rooms/${room}/messages?dir=b&limit=5`);
      return r.json?.chunk?.some((e: any) => e.event_id === fromAlice.json.event_id) ? true : undefined;
    });
    const since: string = (await req(a, alice, 'GET', '/_matrix/client/v3/sync?timeout=0')).json.next_batch;

    // Bob's EDUs: typing, a read receipt, presence, a device list change, a to-device message.
    assert.equal((await req(b, bob, 'PUT', `/_matrix/client/v3/rooms/${room}/typing/${encodeURIComponent(bob.user_id)}`, { typing: true, timeout: 30_000 })).status, 200);
    assert.equal((await req(b, bob, 'POST', `/_matrix/client/v3/rooms/${room}/receipt/m.read/${encodeURIComponent(fromAlice.json.event_id)}`, {})).status, 200);
    assert.equal((await req(b, bob, 'PUT', `/_matrix/client/v3/presence/${encodeURIComponent(bob.user_id)}/status`, { presence: 'online', status_msg: 'cooking' })).status, 200);
    assert.equal((await req(b, bob, 'PUT', `/_matrix/client/v3/devices/${encodeURIComponent(bob.device_id)}`, { display_name: 'Bob\'s phone' })).status, 200);
    const toDevice = await req(b, bob, 'PUT', '/_matrix/client/v3/sendToDevice/org.example.ping/td1', { messages: { [alice.user_id]: { [alice.device_id]: { n: 1 } } } });
    assert.equal(toDevice.status, 200, JSON.stringify(toDevice.json));

    // A got every one of them: alice's sync shows them.
    const arrived = { typing: false, receipt: false, presence: false, devices: false, toDevice: false };
    await until('alice\'s sync to show bob\'s EDUs', async () => {
      const s = (await req(a, alice, 'GET', `/_matrix/client/v3/sync?timeout=0&since=${encodeURIComponent(since)}`)).json ?? {};
      const eph: any[] = s.rooms?.join?.[roomId]?.ephemeral?.events ?? [];
      arrived.typing ||= eph.some((e) => e.type === 'm.typing' && e.content.user_ids.includes(bob.user_id));
      arrived.receipt ||= eph.some((e) => e.type === 'm.receipt' && e.content[fromAlice.json.event_id]?.['m.read']?.[bob.user_id]);
      arrived.presence ||= (s.presence?.events ?? []).some((e: any) => e.sender === bob.user_id && e.content.status_msg === 'cooking');
      arrived.devices ||= (s.device_lists?.changed ?? []).includes(bob.user_id);
      arrived.toDevice ||= (s.to_device?.events ?? []).some((e: any) => e.sender === bob.user_id && e.type === 'org.example.ping');
      return Object.values(arrived).every(Boolean) ? true : undefined;
    }).catch((e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify(arrived)}`);
    });

    // Alice sends B one EDU of each kind, then a last message, so anything A queued for B in
    // answer to bob's EDUs has gone out by the time the last message is recorded; seeing alice in
    // each kind also shows that eduUsers reads every kind (an echo could not slip past it).
    const bobsJoin: string = (await req(a, alice, 'GET', `/_matrix/client/v3/rooms/${room}/messages?dir=b&limit=20`)).json.chunk.find(
      (e: any) => e.sender === bob.user_id,
    ).event_id;
    const byAlice = async (method: string, path: string, body: unknown): Promise<void> => {
      const r = await req(a, alice, method, path, body);
      assert.equal(r.status, 200, `${method} ${path}: ${JSON.stringify(r.json)}`);
    };
    await byAlice('PUT', `/_matrix/client/v3/rooms/${room}/typing/${encodeURIComponent(alice.user_id)}`, { typing: true, timeout: 30_000 });
    await byAlice('POST', `/_matrix/client/v3/rooms/${room}/receipt/m.read/${encodeURIComponent(bobsJoin)}`, {});
    await byAlice('PUT', `/_matrix/client/v3/presence/${encodeURIComponent(alice.user_id)}/status`, { presence: 'online', status_msg: 'gardening' });
    await byAlice('PUT', `/_matrix/client/v3/devices/${encodeURIComponent(alice.device_id)}`, { display_name: 'Alice\'s phone' });
    await byAlice('PUT', '/_matrix/client/v3/sendToDevice/org.example.pong/td2', { messages: { [bob.user_id]: { [bob.device_id]: { n: 2 } } } });
    await byAlice('PUT', `/_matrix/client/v3/rooms/${room}/send/m.room.message/a2`, { msgtype: 'm.text', body: 'last' });
    // B's proxy also sees C's transactions to B: only A's count here.
    const fromA = (t: Transaction): boolean => t.origin === a.serverName;
    const toB = (): Transaction[] => recorded.received.filter(fromA);
    const edus = () => toB().flatMap((t) => t.edus ?? []);
    const kinds = ['m.typing', 'm.receipt', 'm.presence', 'm.device_list_update', 'm.direct_to_device'];
    await until('B to receive each kind of EDU from alice, and the last message', async () => {
      const fromAliceKinds = new Set(edus().filter((e) => eduUsers(e).includes(alice.user_id)).map((e) => e.edu_type));
      const pdu = toB().some((t) => (t.pdus ?? []).some((p: any) => p.content?.body === 'last'));
      return pdu && kinds.every((k) => fromAliceKinds.has(k)) ? true : undefined;
    });
    await until('C to receive alice\'s typing and last message from A', async () => {
      const toC = third.received.filter(fromA);
      const typing = toC.some((t) => (t.edus ?? []).some((e) => e.edu_type === 'm.typing' && e.content.user_id === alice.user_id));
      return typing && toC.some((t) => (t.pdus ?? []).some((p: any) => p.content?.body === 'last')) ? true : undefined;
    });

    const echoed = edus().filter((e) => eduUsers(e).some((u) => userIdServerName(u) === recorded.serverName));
    assert.deepEqual(echoed, [], 'A sent B EDUs about B\'s own users');
    const echoedPdus = toB().flatMap((t) => t.pdus ?? []).filter((p) => typeof p.sender === 'string' && userIdServerName(p.sender) === recorded.serverName);
    assert.deepEqual(echoedPdus, [], 'A sent B events of B\'s own users');
    // Nor does A pass bob's EDUs on to C as if they were its own (B sends C its own).
    const relayed = third.received.filter(fromA).flatMap((t) => t.edus ?? []).filter((e) => eduUsers(e).some((u) => userIdServerName(u) === recorded.serverName));
    assert.deepEqual(relayed, [], 'A relayed EDUs about B\'s users to C');
  } finally {
    await Promise.all([a.close(), recorded.close(), third.close()]);
  }
});
