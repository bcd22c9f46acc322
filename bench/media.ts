// Media repository benchmark (issue 6). Prints:
//   1. thumbnails of a 12-megapixel JPEG (4000×3000, generated here): time for each upload-time
//      size and in total, and peak RSS, measured in a fresh CHILD process so nothing else counts
//   2. upload throughput: a 20 MB file POSTed to /_matrix/media/v3/upload (MB/s, best and median
//      of --uploads runs; the time includes the fsync and the durable metadata row)
//   3. concurrent downloads of that file through /_matrix/client/v1/media/download (MB/s, req/s)
//
// Run: npm run bench:media [-- --uploads 5 --downloads 40 --concurrency 10]
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const { values: args } = parseArgs({
  options: {
    uploads: { type: 'string', default: '5' },
    downloads: { type: 'string', default: '40' },
    concurrency: { type: 'string', default: '10' },
    'thumbnail-child': { type: 'string' },
  },
});

const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);

/** A 12 MP photo-like JPEG: gradients plus noise, so it compresses like a real photo (~3 MB). */
async function makeTwelveMegapixelJpeg(path: string): Promise<void> {
  const width = 4000;
  const height = 3000;
  const raw = Buffer.alloc(width * height * 3);
  let s = 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      s = (s * 1103515245 + 12345) & 0x7fffffff;
      const i = (y * width + x) * 3;
      const n = s & 31;
      raw[i] = ((x * 255) / width + n) & 255;
      raw[i + 1] = ((y * 255) / height + n) & 255;
      raw[i + 2] = ((x + y) & 255) ^ n;
    }
  }
  await sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toFile(path);
}

/** Child mode: thumbnail one file at the upload-time sizes and report times and peak RSS as JSON. */
async function thumbnailChild(source: string): Promise<void> {
  const { Thumbnailer, UPLOAD_TIME_THUMBNAILS, variantName } = await import('../server/services/media/thumbnails.ts');
  const rssBefore = process.resourceUsage().maxRSS * 1024;
  const t = new Thumbnailer(1);
  const dir = mkdtempSync(join(tmpdir(), 'hearth-thumbs-'));
  const times: Record<string, number> = {};
  const start = performance.now();
  for (const spec of UPLOAD_TIME_THUMBNAILS) {
    const t0 = performance.now();
    await t.generate(source, join(dir, variantName(spec)), spec);
    times[variantName(spec)] = Math.round(performance.now() - t0);
  }
  const total = Math.round(performance.now() - start);
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({ times, total, rssBefore, peakRss: process.resourceUsage().maxRSS * 1024 }));
}

/** Downloads with node:http and counts the bytes without keeping them (fetch's buffering would
 * make the client, not the server, the bottleneck). */
function download(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { agent, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => (n += c.length));
      res.on('end', () => resolve(n));
      res.on('error', reject);
    }).on('error', reject);
  });
}
const agent = new Agent({ keepAlive: true });

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'hearth-bench-media-'));
  try {
    // 1. Thumbnails, in a fresh process.
    const photo = join(work, 'photo.jpg');
    await makeTwelveMegapixelJpeg(photo);
    const meta = await sharp(photo).metadata();
    const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--thumbnail-child', photo], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`thumbnail child failed: ${child.stderr}`);
    const th = JSON.parse(child.stdout) as { times: Record<string, number>; total: number; rssBefore: number; peakRss: number };
    console.log(`thumbnails of a ${meta.width}×${meta.height} JPEG (${mb(statSync(photo).size)} MB), sharp ${sharp.versions.sharp} / libvips ${sharp.versions.vips}:`);
    for (const [k, v] of Object.entries(th.times)) console.log(`  ${k.padEnd(16)} ${v} ms`);
    console.log(`  all five         ${th.total} ms; peak RSS ${mb(th.peakRss)} MB (process before: ${mb(th.rssBefore)} MB)`);

    // 2. Upload throughput.
    const { startTestServer } = await import('../server/test/harness.ts');
    const srv = await startTestServer({ maxUploadBytes: 64 * 1024 * 1024, dataDir: join(work, 'hs') });
    try {
      const { access_token: token } = await srv.registerUser('bench');
      const file = randomBytes(20 * 1024 * 1024);
      const rates: number[] = [];
      let mxc = '';
      for (let i = 0; i < Number(args.uploads); i++) {
        const t0 = performance.now();
        const res = await fetch(`${srv.url}/_matrix/media/v3/upload?filename=big.bin`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/octet-stream' },
          body: file,
        });
        mxc = ((await res.json()) as { content_uri: string }).content_uri;
        rates.push(file.length / 1024 / 1024 / ((performance.now() - t0) / 1000));
      }
      rates.sort((a, b) => a - b);
      console.log(`upload of a 20 MB file (${rates.length} runs): median ${rates[Math.floor(rates.length / 2)]!.toFixed(0)} MB/s, best ${rates[rates.length - 1]!.toFixed(0)} MB/s`);

      // 3. Concurrent downloads.
      const total = Number(args.downloads);
      const concurrency = Number(args.concurrency);
      let next = 0;
      let bytes = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < total) {
            next++;
            bytes += await download(`${srv.url}/_matrix/client/v1/media/download/${mxc.slice(6)}`, token);
          }
        }),
      );
      const secs = (performance.now() - t0) / 1000;
      console.log(`downloads: ${total} × 20 MB, ${concurrency} concurrent: ${(bytes / 1024 / 1024 / secs).toFixed(0)} MB/s, ${(total / secs).toFixed(1)} req/s`);
    } finally {
      agent.destroy();
      await srv.close();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (args['thumbnail-child']) await thumbnailChild(args['thumbnail-child']);
else await main();
