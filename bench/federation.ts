// Federation benchmark (issue 5): two Hearth servers over real TLS on loopback.
//
//   RESIDENT: a Hearth in this process (server/test/federation-harness.ts: TLS listener, a
//     throwaway CA, private addresses allowed), loaded through its own client API with one public
//     room of M members (default 1,000) and S state events in all (default 10,000: the members,
//     the creation state, and custom state events sent with createRoom's initial_state). Every
//     event is made, signed and stored by the resident as for a real client, so the room is valid
//     for any joining server.
//   JOINER: a second Hearth in a CHILD process (as `npm start` runs it; --tsx for the sources), so
//     its RSS is its own. Its user joins the room over federation (make_join, send_join v2; the
//     joiner checks every returned state and auth-chain event: signatures, hashes, auth rules).
//
//   1. join: wall time of POST /join on the joiner; the joiner's RSS before, peak (VmHWM, the
//      kernel's high-water mark, plus 10 ms samples of VmRSS) and after; then checks through the
//      joiner's client API that it sees every member and every state event.
//   2. PDUs/s accepted from a busy remote, two ways:
//      a. end to end: resident users send N messages (16 concurrent clients); the resident's
//         sender batches them into transactions; time until the joiner has the last one;
//      b. receive only: P PDUs built and signed here with the resident's key (its data folder's
//         signing.key), chained on the room's latest event, PUT at the joiner's
//         /send/{txnId} in transactions of 50, one in flight (as a real sender); PDUs/s accepted.
//
// Run: node --import tsx bench/federation.ts [--quick] [--members 1000] [--state 10000]
//        [--messages 1000] [--push 2000] [--tsx] [--keep-data] [--log-level warn]
// --quick: 100 members, 1,000 state events, 300 messages, 500 pushed PDUs.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildServerIfNeeded, procStatusMb, startServerProcess, stopServerProcess, type ServerProcess } from './server-process.ts';
import { federationTestSettings, freePort, readJsonBody, startFederatedServer, testCa, type FederatedServer } from '../server/test/federation-harness.ts';
import { loadOrCreateSigningKey } from '../server/services/federation/server-keys.ts';
import { signRequest } from '../server/services/federation/request-auth.ts';
import { signingKeyFromSeed, type Ed25519SigningKey } from '../server/core/crypto/ed25519.ts';
import { buildEvent } from '../server/core/events/build.ts';
import { wireForm } from '../server/core/events/hashes.ts';
import { selectAuthEventIds } from '../server/core/auth/auth-events.ts';
import { getRoomVersion } from '../server/core/room-versions.ts';
import { stateMapKey, type StoredPdu } from '../server/core/events/types.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    members: { type: 'string' },
    state: { type: 'string' },
    messages: { type: 'string' },
    push: { type: 'string' },
    tsx: { type: 'boolean', default: false },
    'keep-data': { type: 'boolean', default: false },
    'log-level': { type: 'string', default: 'warn' },
  },
});
const MEMBERS = Number(args.members ?? (args.quick ? 100 : 1000));
const STATE = Number(args.state ?? (args.quick ? 1000 : 10_000));
const MESSAGES = Number(args.messages ?? (args.quick ? 300 : 1000));
const PUSH = Number(args.push ?? (args.quick ? 500 : 2000));
const CONCURRENCY = 16;
const PDUS_PER_TXN = 50;
const STATE_TYPE = 'org.hearth.bench.state';

const f0 = (n: number): string => (Number.isFinite(n) ? n.toFixed(0) : 'n/a');
const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
const log = (s: string): boolean => process.stdout.write(s);

// ---------------------------------------------------------------------------------------------
// HTTP with keep-alive (the client APIs are plain HTTP; the joiner's federation listener is TLS)

const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
const tlsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 4, ca: readFileSync(testCa().caFile) });

interface Res {
  status: number;
  json: any;
}

function call(url: string, method: string, opts: { body?: unknown; token?: string; headers?: Record<string, string> } = {}): Promise<Res> {
  const body = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
  const headers: Record<string, string | number> = { ...opts.headers };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  if (body) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = body.length;
  }
  const tls = url.startsWith('https:');
  return new Promise((resolve, reject) => {
    const req = (tls ? httpsRequest : httpRequest)(url, { method, headers, agent: tls ? tlsAgent : httpAgent }, (res) => {
      void readJsonBody(res).then((json) => resolve({ status: res.statusCode ?? 0, json }), reject);
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

async function ok(url: string, method: string, opts: { body?: unknown; token?: string } = {}): Promise<any> {
  const r = await call(url, method, opts);
  if (r.status !== 200) throw new Error(`${method} ${url} → ${r.status} ${JSON.stringify(r.json).slice(0, 500)}`);
  return r.json;
}

/** Runs `fn(i)` for i in [0, n) with `CONCURRENCY` in flight. */
async function parallel(n: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, n) }, async () => {
    while (next < n) await fn(next++);
  }));
}

interface Session {
  userId: string;
  token: string;
}

async function register(base: string, username: string): Promise<Session> {
  const body = { username, password: `bench-${username}-password`, auth: { type: 'm.login.dummy' } };
  const r = await ok(`${base}/_matrix/client/v3/register`, 'POST', { body });
  return { userId: r.user_id, token: r.access_token };
}

const roomPath = (roomId: string, rest: string): string => `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/${rest}`;

// ---------------------------------------------------------------------------------------------
// The joiner, in a child process

interface Joiner {
  server: ServerProcess;
  serverName: string;
  fedUrl: string;
  dataDir: string;
}

async function startJoiner(): Promise<Joiner> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-bench-fed-joiner-'));
  const config = join(dataDir, 'bench-settings.json');
  const settings = {
    ...federationTestSettings(testCa(), port),
    listen: { host: '127.0.0.1', port: 0 },
    adminListen: { host: '127.0.0.1', port: 0 },
    registration: 'open',
    logLevel: args['log-level'],
  };
  writeFileSync(config, JSON.stringify(settings));
  const server = await startServerProcess(['--data', dataDir, '--config', config], { tsx: args.tsx! });
  return { server, serverName: settings.serverName!, fedUrl: `https://127.0.0.1:${port}`, dataDir };
}

/** Samples a process's VmRSS every 10 ms until stopped; returns the highest sample. */
function sampleRss(pid: number): () => number {
  let peak = procStatusMb(pid, 'VmRSS');
  const t = setInterval(() => {
    peak = Math.max(peak, procStatusMb(pid, 'VmRSS'));
  }, 10);
  return () => {
    clearInterval(t);
    return Math.max(peak, procStatusMb(pid, 'VmRSS'));
  };
}

// ---------------------------------------------------------------------------------------------
// Loading the resident

async function loadResident(resident: FederatedServer): Promise<{ roomId: string; creator: Session; members: Session[]; stateCount: number }> {
  const base = resident.url;
  const creator = await register(base, 'creator');
  // The non-member state comes with createRoom (initial_state): the rooms service pipelines those
  // events into group commits, where one PUT /state each would wait for its own fsync. createRoom
  // itself makes 8 (create, creator's join, power levels, join rules, history visibility, guest
  // access, name, topic).
  const extra = Math.max(0, STATE - MEMBERS - 8);
  const initialState = Array.from({ length: extra }, (_, i) => ({ type: STATE_TYPE, state_key: String(i), content: { n: i, note: `bench state event ${i}` } }));
  const tc = performance.now();
  const { room_id: roomId } = await ok(`${base}/_matrix/client/v3/createRoom`, 'POST', {
    token: creator.token,
    body: { preset: 'public_chat', name: 'Bench family reunion', topic: 'a big room to join over federation', initial_state: initialState },
  });
  log(`  room created with ${extra} custom state events in ${f0(performance.now() - tc)} ms\n`);
  const members: Session[] = [];
  const t = performance.now();
  await parallel(MEMBERS, async (i) => {
    members[i] = await register(base, `member${i}`);
  });
  log(`  ${MEMBERS} users registered in ${f0(performance.now() - t)} ms\n`);
  const tj = performance.now();
  await parallel(MEMBERS, (i) => ok(`${base}${roomPath(roomId, 'join')}`, 'POST', { token: members[i]!.token, body: {} }));
  log(`  ${MEMBERS} joins in ${f0(performance.now() - tj)} ms\n`);
  const stateCount = ((await ok(`${base}${roomPath(roomId, 'state')}`, 'GET', { token: creator.token })) as unknown[]).length;
  return { roomId, creator, members, stateCount };
}

// ---------------------------------------------------------------------------------------------
// 2b: PDUs built here, signed with the resident's key, pushed at the joiner's /send

/** A federation request from the resident to the joiner, signed with the resident's key. */
function asResident(resident: FederatedServer, key: Ed25519SigningKey, joiner: Joiner) {
  return (method: string, path: string, body?: unknown): Promise<Res> => {
    const authorization = signRequest({ method, uri: path, origin: resident.serverName, destination: joiner.serverName, content: body }, key);
    return call(`${joiner.fedUrl}${path}`, method, { body, headers: { Authorization: authorization } });
  };
}

async function pushPdus(resident: FederatedServer, joiner: Joiner, roomId: string, sender: Session, latestEventId: string): Promise<{ seconds: number; accepted: number; errors: number }> {
  const stored = loadOrCreateSigningKey(resident.dataDir);
  const key = signingKeyFromSeed(stored.seed, stored.keyId.slice('ed25519:'.length));
  const fed = asResident(resident, key, joiner);
  const latest = await fed('GET', `/_matrix/federation/v1/event/${encodeURIComponent(latestEventId)}`);
  if (latest.status !== 200) throw new Error(`GET /event from the joiner → ${latest.status} ${JSON.stringify(latest.json)}`);
  const latestPdu = latest.json.pdus[0] as StoredPdu;
  // The room version and the auth events for a message, from the state as the resident shows it.
  const state = (await ok(`${resident.url}${roomPath(roomId, 'state')}`, 'GET', { token: sender.token })) as StoredPdu[];
  const create = state.find((e) => e.type === 'm.room.create');
  const version = getRoomVersion(String(create?.content.room_version ?? '1'));
  if (!version) throw new Error(`unknown room version ${String(create?.content.room_version)}`);
  const stateMap = new Map(state.map((e) => [stateMapKey(e.type, e.state_key!), e]));
  const authEvents = selectAuthEventIds(version, { type: 'm.room.message', sender: sender.userId, content: {} }, stateMap);
  let prev = latestEventId;
  let depth = latestPdu.depth;
  const pdus: Record<string, unknown>[] = [];
  for (let i = 0; i < PUSH; i++) {
    const pdu = buildEvent(
      version,
      { type: 'm.room.message', room_id: roomId, sender: sender.userId, content: { msgtype: 'm.text', body: `pushed ${i}` }, prev_events: [prev], auth_events: authEvents, depth: ++depth, origin_server_ts: Date.now() },
      { serverName: resident.serverName, signingKey: key },
    );
    prev = pdu.event_id;
    pdus.push(wireForm(version, pdu));
  }
  const txnPrefix = `bench${Date.now().toString(36)}`;
  let accepted = 0;
  let errors = 0;
  const t = performance.now();
  for (let i = 0; i < pdus.length; i += PDUS_PER_TXN) {
    const batch = pdus.slice(i, i + PDUS_PER_TXN);
    const path = `/_matrix/federation/v1/send/${txnPrefix}_${i}`;
    const r = await fed('PUT', path, { origin: resident.serverName, origin_server_ts: Date.now(), pdus: batch, edus: [] });
    if (r.status !== 200) throw new Error(`PUT /send → ${r.status} ${JSON.stringify(r.json).slice(0, 500)}`);
    for (const result of Object.values<{ error?: string }>(r.json.pdus ?? {})) {
      if (result.error) {
        if (errors++ < 3) process.stderr.write(`PDU not accepted: ${result.error}\n`);
      } else accepted++;
    }
  }
  return { seconds: (performance.now() - t) / 1000, accepted, errors };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  log(`Hearth federation benchmark: Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})${args.quick ? ', --quick' : ''}\n`);
  if (!args.tsx) buildServerIfNeeded();
  const resident = await startFederatedServer({ settings: { logLevel: args['log-level'] as 'warn', federationRetryMinMs: 200 } });
  let joiner: Joiner | undefined;
  try {
    log(`resident ${resident.serverName} (in process); loading a room with ${MEMBERS} members and ${STATE} state events…\n`);
    const tLoad = performance.now();
    const room = await loadResident(resident);
    log(`  loaded in ${f1((performance.now() - tLoad) / 1000)} s: ${room.stateCount} state events\n`);

    joiner = await startJoiner();
    const pid = joiner.server.pid;
    const visitor = await register(joiner.server.url, 'visitor');
    const rssBefore = procStatusMb(pid, 'VmRSS');
    const hwmBefore = procStatusMb(pid, 'VmHWM');
    log(`joiner ${joiner.serverName} (child pid ${pid}), RSS ${f0(rssBefore)} MB; joining…\n`);

    // 1. the join
    const stopSampling = sampleRss(pid);
    const tJoin = performance.now();
    const joined = await call(`${joiner.server.url}/_matrix/client/v3/join/${encodeURIComponent(room.roomId)}?server_name=${encodeURIComponent(resident.serverName)}`, 'POST', {
      token: visitor.token,
      body: {},
    });
    const joinMs = performance.now() - tJoin;
    const sampledPeak = stopSampling();
    const hwmAfter = procStatusMb(pid, 'VmHWM');
    const rssAfter = procStatusMb(pid, 'VmRSS');
    if (joined.status !== 200) throw new Error(`join → ${joined.status} ${JSON.stringify(joined.json)}`);
    const joinedMembers = Object.keys((await ok(`${joiner.server.url}${roomPath(room.roomId, 'joined_members')}`, 'GET', { token: visitor.token })).joined).length;
    const joinerState = ((await ok(`${joiner.server.url}${roomPath(room.roomId, 'state')}`, 'GET', { token: visitor.token })) as unknown[]).length;
    const wantMembers = MEMBERS + 2;
    const wantState = room.stateCount + 1;
    log(`  joined in ${f0(joinMs)} ms; the joiner sees ${joinedMembers} joined members (want ${wantMembers}) and ${joinerState} state events (want ${wantState})\n`);
    if (joinedMembers !== wantMembers || joinerState !== wantState) throw new Error('the joiner does not see the whole room');

    // 2a. end to end: resident users send, the resident's sender batches, the joiner accepts
    const senders = room.members.slice(0, CONCURRENCY);
    let txn = 0;
    const send = (who: Session, body: string): Promise<any> =>
      ok(`${resident.url}${roomPath(room.roomId, `send/m.room.message/b${++txn}`)}`, 'PUT', { token: who.token, body: { msgtype: 'm.text', body } });
    const tSend = performance.now();
    let sent = 0;
    await Promise.all(senders.map(async (who) => {
      while (sent < MESSAGES) {
        sent++;
        await send(who, `busy ${sent}`);
      }
    }));
    const sendDoneMs = performance.now() - tSend;
    const marker = (await send(room.creator, 'last one')).event_id as string;
    for (;;) {
      const r = await call(`${joiner.server.url}${roomPath(room.roomId, `event/${encodeURIComponent(marker)}`)}`, 'GET', { token: visitor.token });
      if (r.status === 200) break;
      if (performance.now() - tSend > 600_000) throw new Error('the joiner did not get the messages within 10 minutes');
      await new Promise((r) => setTimeout(r, 10));
    }
    const endToEndS = (performance.now() - tSend) / 1000;

    // 2b. receive only: signed transactions pushed at /send
    const pushed = await pushPdus(resident, joiner, room.roomId, room.creator, marker);
    const rssEnd = procStatusMb(pid, 'VmRSS');

    const rows: [string, string][] = [
      [`join of a room with ${MEMBERS} members, ${room.stateCount} state events`, `${f0(joinMs)} ms`],
      ['joiner RSS before join → after', `${f0(rssBefore)} → ${f0(rssAfter)} MB`],
      ['joiner peak RSS during join (VmHWM / 10 ms samples)', `${f0(hwmAfter)} / ${f0(sampledPeak)} MB${hwmBefore >= hwmAfter ? ' (VmHWM set before the join)' : ''}`],
      [`end to end: ${MESSAGES + 1} messages sent on the resident (${CONCURRENCY} clients) until the joiner has the last`, `${f0((MESSAGES + 1) / endToEndS)} PDUs/s (${f1(endToEndS)} s; sends done after ${f1(sendDoneMs / 1000)} s)`],
      [`receive only: ${PUSH} signed PDUs PUT at /send, ${PDUS_PER_TXN} per transaction, one in flight`, `${f0(pushed.accepted / pushed.seconds)} PDUs/s (${pushed.accepted} accepted, ${pushed.errors} refused, ${f1(pushed.seconds)} s)`],
      ['joiner RSS at the end', `${f0(rssEnd)} MB`],
    ];
    const w = Math.max(...rows.map((r) => r[0].length));
    log('\n');
    for (const [k, v] of rows) log(`${k.padEnd(w)}  ${v}\n`);
    if (pushed.errors > 0) process.exitCode = 1;
  } finally {
    httpAgent.destroy();
    tlsAgent.destroy();
    if (joiner) await stopServerProcess(joiner.server.child);
    await resident.close({ keepData: args['keep-data'] });
    if (joiner && !args['keep-data']) rmSync(joiner.dataDir, { recursive: true, force: true });
    if (args['keep-data']) log(`data kept in ${resident.dataDir} and ${joiner?.dataDir}\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
});
