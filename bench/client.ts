// Client-server benchmark (issue 3): what a user of the client API feels, over real HTTP with
// keep-alive, against a Hearth running in a CHILD process (so this script's own memory is not
// counted in the server's RSS).
//
//   1. send throughput: N concurrent senders (default 10) PUT /send over M messages (default 3,000);
//      messages/s and per-request latency p50/p95/p99
//   2. send-to-sync: a receiver long-polls /sync?timeout=30000; time from just before the PUT to
//      the moment the receiver's /sync response carrying that event_id has been read (p50/p95)
//   3. initial sync of a user in 50 rooms with 20 messages each (no since token)
//   4. server RSS (VmRSS of the child) idle, before and after the throughput run, at the end
//
// Run: node --import tsx bench/client.ts [--messages 3000] [--senders 10] [--sync-samples 200]
//                                       [--keep-data] [--log-level warn] [--tsx]
// The server runs as `npm start` runs it (dist/hearth.mjs, rebuilt when stale); --tsx runs the
// TypeScript sources through tsx instead (about 50 MB more memory).
// Reference (Synapse, same shape): 55 msg/s, p50 175 ms; send-to-sync p50 30 ms; RSS 110→178 MB.
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildServerIfNeeded, cpuMs, procStatusMb, startServerProcess, stopServerProcess } from './server-process.ts';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '3000' },
    senders: { type: 'string', default: '10' },
    users: { type: 'string', default: '20' },
    rooms: { type: 'string', default: '5' },
    'sync-samples': { type: 'string', default: '200' },
    'sync-rooms': { type: 'string', default: '50' },
    'sync-history': { type: 'string', default: '20' },
    'keep-data': { type: 'boolean', default: false },
    tsx: { type: 'boolean', default: false },
    'log-level': { type: 'string', default: 'warn' },
  },
});
const MESSAGES = Number(args.messages);
const SENDERS = Number(args.senders);
const USERS = Math.max(Number(args.users), SENDERS + 2);
const ROOMS = Number(args.rooms);
const SYNC_SAMPLES = Number(args['sync-samples']);
const SYNC_ROOMS = Number(args['sync-rooms']);
const SYNC_HISTORY = Number(args['sync-history']);
const SECRET = 'bench-shared-secret';
const PASSWORD = 'bench-password-123';

if (!args.tsx) buildServerIfNeeded();
const dataDir = mkdtempSync(join(tmpdir(), 'hearth-bench-client-'));

// ---------------------------------------------------------------------------------------------
// HTTP with keep-alive (node:http, so connection reuse is explicit and measurable)

const sendAgent = new Agent({ keepAlive: true, maxSockets: 256 });
const syncAgent = new Agent({ keepAlive: true, maxSockets: 4 });
let BASE = '';

interface Res {
  status: number;
  json: any;
  bytes: number;
}

function call(method: string, path: string, opts: { body?: unknown; token?: string; agent?: Agent } = {}): Promise<Res> {
  const body = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
  const headers: Record<string, string | number> = {};
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  if (body) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = body.length;
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest(BASE + path, { method, headers, agent: opts.agent ?? sendAgent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        let json: unknown;
        try {
          json = buf.length ? JSON.parse(buf.toString('utf8')) : undefined;
        } catch {
          json = buf.toString('utf8');
        }
        resolve({ status: res.statusCode ?? 0, json, bytes: buf.length });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

async function ok(method: string, path: string, opts: { body?: unknown; token?: string; agent?: Agent } = {}): Promise<any> {
  const r = await call(method, path, opts);
  if (r.status !== 200) throw new Error(`${method} ${path} → ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

// ---------------------------------------------------------------------------------------------
// Setup helpers

interface User {
  name: string;
  userId: string;
  token: string;
}

async function registerUser(name: string): Promise<User> {
  const nonceRes = await call('GET', '/_synapse/admin/v1/register');
  if (nonceRes.status === 200) {
    const nonce = nonceRes.json.nonce as string;
    const mac = createHmac('sha1', SECRET).update(`${nonce}\0${name}\0${PASSWORD}\0notadmin`).digest('hex');
    const r = await ok('POST', '/_synapse/admin/v1/register', { body: { nonce, username: name, password: PASSWORD, admin: false, mac } });
    return { name, userId: r.user_id, token: r.access_token };
  }
  // fallback: open registration with m.login.dummy UIA
  const body = { username: name, password: PASSWORD, initial_device_display_name: 'bench' };
  let r = await call('POST', '/_matrix/client/v3/register', { body });
  if (r.status === 401) r = await call('POST', '/_matrix/client/v3/register', { body: { ...body, auth: { type: 'm.login.dummy', session: r.json.session } } });
  if (r.status !== 200) throw new Error(`register ${name} → ${r.status} ${JSON.stringify(r.json)}`);
  return { name, userId: r.json.user_id, token: r.json.access_token };
}

async function createRoom(creator: User, members: User[], name: string): Promise<string> {
  const { room_id: roomId } = await ok('POST', '/_matrix/client/v3/createRoom', {
    token: creator.token,
    body: { preset: 'private_chat', name, invite: members.map((m) => m.userId) },
  });
  for (const m of members) await ok('POST', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/join`, { token: m.token, body: {} });
  return roomId;
}

/** Paths of the non-empty leaves of a /sync response, room ids replaced by '*' (diagnostics). */
function describeNonEmpty(v: any, path = ''): string[] {
  if (path === '.next_batch') return [];
  if (Array.isArray(v)) return v.length ? [path] : [];
  if (v && typeof v === 'object') {
    const out = new Set<string>();
    for (const [k, x] of Object.entries(v)) for (const p of describeNonEmpty(x, `${path}.${/^[!@]/.test(k) ? '*' : k}`)) out.add(p);
    return [...out];
  }
  return v === 0 ? [] : [path];
}

let txn = 0;
function sendPath(roomId: string): string {
  return `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/b${process.pid}.${++txn}`;
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
const f0 = (n: number): string => (Number.isFinite(n) ? n.toFixed(0) : 'n/a');
const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  process.stdout.write(`Hearth client benchmark: Node ${process.version}, ${process.platform} ${process.arch}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})\n`);
  const t0 = performance.now();
  const server = await startServerProcess(['--data', dataDir, '--listen', '127.0.0.1:0', '--registration-shared-secret', SECRET, '--registration', 'open', '--log-level', args['log-level']!], { tsx: args.tsx! });
  BASE = server.url;
  const pid = server.pid;
  process.stdout.write(`server pid ${pid} at ${BASE}, data ${dataDir} (started in ${f0(performance.now() - t0)} ms)\n`);
  const rssIdle = procStatusMb(pid);

  try {
    const probe = await call('POST', '/_matrix/client/v3/createRoom', { body: {} });
    if (probe.status === 404) throw new Error('the server does not answer POST /_matrix/client/v3/createRoom yet (404): the client API is not wired');

    // --- setup: users and rooms
    process.stdout.write(`setup: ${USERS} users, ${ROOMS} rooms… `);
    const tSetup = performance.now();
    const users: User[] = [];
    for (let i = 0; i < USERS; i++) users.push(await registerUser(`bench${i}`));
    // room r: 8 members (or all, when fewer users), a sliding window over the user list
    const per = Math.min(8, USERS);
    const rooms: { id: string; members: User[] }[] = [];
    for (let r = 0; r < ROOMS; r++) {
      const members = Array.from({ length: per }, (_, k) => users[(r * 4 + k) % USERS]!);
      rooms.push({ id: await createRoom(members[0]!, members.slice(1), `bench room ${r}`), members });
    }
    process.stdout.write(`${f0(performance.now() - tSetup)} ms\n`);

    // --- 1. throughput: SENDERS concurrent senders, MESSAGES in total
    const senders = users.slice(0, SENDERS).map((u, i) => ({ user: u, roomId: rooms.find((r) => r.members.includes(u))?.id ?? rooms[i % ROOMS]!.id }));
    // warm-up: a few sends per sender (JIT, connection setup), not measured
    await Promise.all(senders.map((s) => ok('PUT', sendPath(s.roomId), { token: s.user.token, body: { msgtype: 'm.text', body: 'warm-up' } })));
    const rssBefore = procStatusMb(pid);
    const cpuBefore = cpuMs(pid);
    const latencies: number[] = [];
    let errors = 0;
    let next = 0;
    const tSend = performance.now();
    await Promise.all(
      senders.map(async (s) => {
        while (next < MESSAGES) {
          const n = next++;
          const t = performance.now();
          const r = await call('PUT', sendPath(s.roomId), { token: s.user.token, body: { msgtype: 'm.text', body: `message ${n} from ${s.user.name}: the quick brown fox jumps over the lazy dog` } });
          latencies.push(performance.now() - t);
          if (r.status !== 200 || typeof r.json?.event_id !== 'string') {
            if (errors++ < 5) process.stderr.write(`send error: ${r.status} ${JSON.stringify(r.json)}\n`);
          }
        }
      }),
    );
    const sendSeconds = (performance.now() - tSend) / 1000;
    const rssAfter = procStatusMb(pid);
    const cpuPerMessage = (cpuMs(pid) - cpuBefore) / MESSAGES;
    latencies.sort((a, b) => a - b);
    const throughput = MESSAGES / sendSeconds;
    process.stdout.write(`throughput: ${MESSAGES} messages in ${f1(sendSeconds)} s${errors ? `, ${errors} ERRORS` : ''}\n`);

    // --- 2. send-to-sync latency with a long-polling receiver
    const room0 = rooms[0]!;
    const sender = room0.members[0]!;
    const receiver = room0.members[1]!;
    const filter = encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 1 }, state: { lazy_load_members: true } }, presence: { types: [] } }));
    const first = await ok('GET', `/_matrix/client/v3/sync?filter=${filter}`, { token: receiver.token, agent: syncAgent });
    let since: string = first.next_batch;
    const arrivals = new Map<string, number>();
    const waiters = new Map<string, () => void>();
    let receiving = true;
    let syncRequests = 0;
    let syncWithoutTimeline = 0;
    const emptyWhy = new Map<string, number>();
    const emptyTimes: number[] = [];
    let emptyBeforeArrival = 0;
    const receiverLoop = (async () => {
      while (receiving) {
        const r = await call('GET', `/_matrix/client/v3/sync?filter=${filter}&timeout=30000&since=${encodeURIComponent(since)}`, { token: receiver.token, agent: syncAgent });
        const now = performance.now();
        syncRequests++;
        if (r.status !== 200) throw new Error(`receiver /sync → ${r.status} ${JSON.stringify(r.json)}`);
        since = r.json.next_batch;
        const joined = Object.values<any>(r.json.rooms?.join ?? {});
        if (!joined.some((room) => (room.timeline?.events ?? []).length > 0)) {
          syncWithoutTimeline++;
          // what woke it: anything non-empty besides next_batch (e.g. ephemeral receipts, counts)
          const why = describeNonEmpty(r.json).join('+') || '(nothing)';
          emptyWhy.set(why, (emptyWhy.get(why) ?? 0) + 1);
          emptyTimes.push(now);
        }
        for (const room of joined) {
          for (const ev of room.timeline?.events ?? []) {
            if (!arrivals.has(ev.event_id)) arrivals.set(ev.event_id, now);
            waiters.get(ev.event_id)?.();
          }
        }
      }
    })();
    receiverLoop.catch(() => {}); // awaited below; this only avoids an unhandled-rejection crash meanwhile
    const syncLat: number[] = [];
    // one in flight at a time, with the receiver parked in its long poll before each send
    for (let i = 0; i < SYNC_SAMPLES + 5; i++) {
      await new Promise((r) => setTimeout(r, 10));
      const t = performance.now();
      const { event_id: id } = await ok('PUT', sendPath(room0.id), { token: sender.token, body: { msgtype: 'm.text', body: `ping ${i}` } });
      if (!arrivals.has(id)) {
        await new Promise<void>((resolve, reject) => {
          const to = setTimeout(() => reject(new Error(`event ${id} did not reach the receiver's /sync within 10 s`)), 10_000);
          waiters.set(id, () => {
            clearTimeout(to);
            resolve();
          });
        });
        waiters.delete(id);
      }
      if (i >= 5) {
        syncLat.push(arrivals.get(id)! - t); // first 5 are warm-up
        if (emptyTimes.some((e) => e >= t && e < arrivals.get(id)!)) emptyBeforeArrival++;
      }
    }
    receiving = false;
    // wake the receiver's last long poll so it can exit
    await ok('PUT', sendPath(room0.id), { token: sender.token, body: { msgtype: 'm.text', body: 'bye' } });
    await receiverLoop;
    syncLat.sort((a, b) => a - b);

    // --- 3. initial sync for a user in SYNC_ROOMS rooms with SYNC_HISTORY messages each
    process.stdout.write(`initial-sync setup: ${SYNC_ROOMS} rooms × ${SYNC_HISTORY} messages… `);
    const tIs = performance.now();
    const heavy = await registerUser('heavy');
    const friend = users[USERS - 1]!;
    for (let r = 0; r < SYNC_ROOMS; r++) {
      const roomId = await createRoom(heavy, [friend], `heavy room ${r}`);
      const sends: Promise<unknown>[] = [];
      for (let m = 0; m < SYNC_HISTORY; m++) {
        const who = m % 2 === 0 ? heavy : friend;
        sends.push(ok('PUT', sendPath(roomId), { token: who.token, body: { msgtype: 'm.text', body: `history ${m} in room ${r}` } }));
      }
      await Promise.all(sends);
    }
    process.stdout.write(`${f0(performance.now() - tIs)} ms\n`);
    const isTimes: number[] = [];
    let isBytes = 0;
    let isRooms = 0;
    for (let i = 0; i < 6; i++) {
      const t = performance.now();
      const r = await call('GET', '/_matrix/client/v3/sync', { token: heavy.token });
      const ms = performance.now() - t;
      if (r.status !== 200) throw new Error(`initial /sync → ${r.status} ${JSON.stringify(r.json)}`);
      isBytes = r.bytes;
      isRooms = Object.keys(r.json.rooms?.join ?? {}).length;
      isTimes.push(ms);
    }
    const isCold = isTimes[0]!;
    const isWarm = [...isTimes.slice(1)].sort((a, b) => a - b);
    const rssEnd = procStatusMb(pid);

    // --- report
    const p50 = pct(latencies, 50);
    const s50 = pct(syncLat, 50);
    const mark = (good: boolean): string => (good ? 'ok  ' : 'MISS');
    const rows: [string, string, string, string, string][] = [
      ['measure', 'Hearth', 'target', 'Synapse (ref)', ''],
      [`send throughput, ${SENDERS} senders, ${MESSAGES} msgs`, `${f0(throughput)} msg/s`, '≥1000 msg/s', '55 msg/s', mark(throughput >= 1000)],
      ['send latency p50', `${f1(p50)} ms`, '≤10 ms', '175 ms', mark(p50 <= 10)],
      ['send latency p95 / p99', `${f1(pct(latencies, 95))} / ${f1(pct(latencies, 99))} ms`, '', '', ''],
      [`send→sync p50 (${syncLat.length} samples)`, `${f1(s50)} ms`, '≤5 ms', '30 ms', mark(s50 <= 5)],
      ['send→sync p95', `${f1(pct(syncLat, 95))} ms`, '', '', ''],
      [`initial sync, ${isRooms} rooms × ${SYNC_HISTORY} msgs (warm median)`, `${f0(pct(isWarm, 50))} ms`, '<200 ms', '', mark(pct(isWarm, 50) < 200)],
      ['initial sync, first (cold) / response size', `${f0(isCold)} ms / ${f0(isBytes / 1024)} KiB`, '', '', ''],
      ['server CPU time per message sent', `${f2(cpuPerMessage)} ms`, '', '', ''],
      [`server RSS before → after ${MESSAGES} msgs`, `${f0(rssBefore)} → ${f0(rssAfter)} MB`, '≤100 MB after', '110 → 178 MB', mark(rssAfter <= 100)],
      ['server RSS idle at start / at the end', `${f0(rssIdle)} / ${f0(rssEnd)} MB`, '', '', ''],
    ];
    const w = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
    process.stdout.write('\n');
    for (const [i, r] of rows.entries()) {
      process.stdout.write(`${r[0].padEnd(w[0]!)}  ${r[1].padStart(w[1]!)}  ${r[2].padEnd(w[2]!)}  ${r[3].padEnd(w[3]!)}  ${r[4]}\n`);
      if (i === 0) process.stdout.write(`${'-'.repeat(w.reduce((a, b) => a + b + 2, 0) + 4)}\n`);
    }
    process.stdout.write(`\n(${syncRequests} receiver /sync responses for ${SYNC_SAMPLES + 6} messages, ${syncWithoutTimeline} without a timeline event${syncWithoutTimeline ? `: ${[...emptyWhy].map(([k, v]) => `${v}× ${k}`).join(', ')}` : ''}; ${emptyBeforeArrival} of ${syncLat.length} samples saw an empty response between the send and the event's arrival; errors during sends: ${errors})\n`);
    if (errors > 0) process.exitCode = 1;
  } finally {
    sendAgent.destroy();
    syncAgent.destroy();
    await stopServerProcess(server.child);
    if (args['keep-data']) {
      // The server's own output goes with the data, for looking into a run afterwards.
      writeFileSync(join(dataDir, 'server-output.log'), server.output());
      process.stdout.write(`data and server output kept in ${dataDir}\n`);
    } else rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
});
