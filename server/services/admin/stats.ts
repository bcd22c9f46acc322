/**
 * Facts about the machine for the admin GUI's dashboard and setup wizard: the addresses other
 * devices on the home network can use, and how much disk the data folder takes.
 */
import { networkInterfaces } from 'node:os';
import { readdir, lstat } from 'node:fs/promises';
import { join } from 'node:path';

export interface LanAddress {
  interface: string;
  address: string;
  family: 'IPv4' | 'IPv6';
}

type Interfaces = ReturnType<typeof networkInterfaces>;

/**
 * Non-internal addresses a phone on the same network could reach: IPv4 first (what people type),
 * then IPv6 that is not link-local (fe80::/10 needs a zone id that clients cannot take).
 */
export function lanAddresses(ifaces: Interfaces = networkInterfaces()): LanAddress[] {
  const v4: LanAddress[] = [];
  const v6: LanAddress[] = [];
  for (const [name, list] of Object.entries(ifaces)) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv4') v4.push({ interface: name, address: a.address, family: 'IPv4' });
      else if (a.family === 'IPv6' && !/^fe[89ab]/i.test(a.address)) v6.push({ interface: name, address: a.address, family: 'IPv6' });
    }
  }
  return [...v4, ...v6];
}

export interface DiskUsage {
  /** Everything under the data folder. */
  totalBytes: number;
  /** Database snapshot and journal files. */
  databaseBytes: number;
  /** The media folder. */
  mediaBytes: number;
}

/** Walks the data folder; a file that vanishes mid-walk (a checkpoint renaming) is skipped. */
export async function diskUsage(dataDir: string): Promise<DiskUsage> {
  const usage: DiskUsage = { totalBytes: 0, databaseBytes: 0, mediaBytes: 0 };
  const walk = async (dir: string, topLevel: boolean, inMedia: boolean): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(dir, name);
      let st;
      try {
        st = await lstat(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) {
        await walk(p, false, inMedia || (topLevel && name === 'media'));
      } else if (st.isFile()) {
        usage.totalBytes += st.size;
        if (inMedia) usage.mediaBytes += st.size;
        else if (topLevel && /^(snapshot-.*\.sqlite(\.tmp)?|journal-.*\.log)$/.test(name)) usage.databaseBytes += st.size;
      }
    }
  };
  await walk(dataDir, true, false);
  return usage;
}
