// A Hearth server in a child process, started as `npm start` starts it (the same node flags and
// the bundle, built here when stale) or from the TypeScript sources with `tsx`, so the figures a
// bench reads from /proc are the server's own.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  /** The client API's base URL, without a trailing slash. */
  url: string;
  /** Everything the server printed so far. */
  output: () => string;
}

/** node arguments before the server's own: `npm start`'s flags and entry, or tsx and the sources.
 * BENCH_SERVER_NODE_ARGS adds flags for profiling (e.g. --cpu-prof). */
function nodeArgs(tsx: boolean): string[] {
  const extra = process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  if (tsx) return [...extra, '--import', 'tsx', join(ROOT, 'server', 'cli.ts')];
  const start = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start.split(' ');
  // `node <flags> dist/hearth.mjs`: the flags, then the bundle's absolute path.
  return [...extra, ...start.slice(1).map((a) => (a.endsWith('.mjs') ? join(ROOT, a) : a))];
}

/** Builds the bundle when it is older than the sources (what `npm start`'s prestart does). */
export function buildServerIfNeeded(): void {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-if-needed.mjs')], { cwd: ROOT, stdio: 'inherit' });
}

export function startServerProcess(serverArgs: string[], opts: { tsx: boolean }): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...nodeArgs(opts.tsx), ...serverArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const t = setInterval(() => {
      const m = /Client API: (http:\/\/\S+)/.exec(out);
      if (m) {
        clearInterval(t);
        resolve({ child, pid: child.pid!, url: m[1]!.replace(/\/$/, ''), output: () => out });
      }
    }, 10);
    child.on('exit', (code) => {
      clearInterval(t);
      reject(new Error(`server exited (${code}) before listening:\n${out}`));
    });
  });
}

/** SIGTERM (a clean shutdown flushes storage), then SIGKILL after 10 s. */
export async function stopServerProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

/** A memory figure of a process from /proc, in MB: VmRSS now, or VmHWM, its high-water mark. */
export function procStatusMb(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** CPU time (user + system) the process has used, in ms: per-message cost that other load on the
 * machine does not distort as much as wall-clock throughput. */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}
