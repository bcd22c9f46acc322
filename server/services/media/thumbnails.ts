/**
 * Thumbnail generation (spec: client-server "Thumbnails"), with sharp (libvips, prebuilt binaries
 * from the npm registry for Linux, macOS and Windows). Chosen by measurement on a 12-megapixel
 * JPEG (bench/media.ts; figures in the media issue's note): sharp ~0.15 s and ~80 MB peak RSS,
 * against wasm-vips ~0.7 s / ~230 MB and jimp ~1.6 s / ~425 MB.
 * Sizes are bounded: a request is served from the smallest standard size at least as large
 * (the spec lets the thumbnail be larger than asked), so clients cannot make us store unbounded
 * variants. Sources are checked by their bytes, not their declared type: only JPEG, PNG (APNG),
 * GIF, WebP and AVIF are decoded, never SVG (which could load external resources).
 */
import type { Metadata } from 'sharp';
import { loadSharp } from './sharp.ts';
import { MatrixError } from '../../errors.ts';

export type ThumbnailMethod = 'crop' | 'scale';

export interface ThumbnailSpec {
  width: number;
  height: number;
  method: ThumbnailMethod;
  animated: boolean;
}

/** Standard dimensions (Synapse's defaults); requests round up to one of them. */
export const STANDARD_SIZES: readonly (readonly [number, number])[] = [
  [32, 32],
  [96, 96],
  [320, 240],
  [640, 480],
  [800, 600],
];

/** Generated at upload time, because every client asks for them (avatars, timeline previews). */
export const UPLOAD_TIME_THUMBNAILS: readonly ThumbnailSpec[] = [
  { width: 32, height: 32, method: 'crop', animated: false },
  { width: 96, height: 96, method: 'crop', animated: false },
  { width: 320, height: 240, method: 'scale', animated: false },
  { width: 640, height: 480, method: 'scale', animated: false },
  { width: 800, height: 600, method: 'scale', animated: false },
];

/** Content types we try to thumbnail (the bytes are checked again when decoding). */
const THUMBNAILABLE = new Set(['image/jpeg', 'image/jpg', 'image/png', 'image/apng', 'image/gif', 'image/webp', 'image/avif']);
const DECODABLE_FORMATS = new Set(['jpeg', 'png', 'gif', 'webp', 'heif']);
/** Larger sources are refused (413), bounding decode memory. */
const MAX_SOURCE_PIXELS = 100_000_000;

export function isThumbnailable(contentType: string | null): boolean {
  return contentType !== null && THUMBNAILABLE.has(contentType.split(';')[0]!.trim().toLowerCase());
}

/** The standard size a request is served from. */
export function standardSize(width: number, height: number): [number, number] {
  const fit = STANDARD_SIZES.find(([w, h]) => w >= width && h >= height) ?? STANDARD_SIZES[STANDARD_SIZES.length - 1]!;
  return [fit[0], fit[1]];
}

/** File name of a variant inside the media's thumbnail folder. */
export function variantName(s: ThumbnailSpec): string {
  return `${s.width}x${s.height}-${s.method}${s.animated ? '-animated' : ''}`;
}

export class Thumbnailer {
  private running = 0;
  private readonly queue: (() => void)[] = [];

  /** `concurrency` bounds simultaneous decodes: each 12 MP JPEG costs ~40 MB while it runs. */
  constructor(private readonly concurrency = 2) {}

  /**
   * Writes a thumbnail of `source` to `dest`. Scale fits inside the box; crop fills it and cuts the
   * overflow; neither enlarges. Animated output (WebP) only when asked and the source has frames;
   * otherwise the first frame, as JPEG for JPEG sources and PNG for the rest (keeps transparency).
   */
  async generate(source: string, dest: string, spec: ThumbnailSpec): Promise<{ contentType: string; size: number }> {
    await this.slot();
    try {
      const sharp = await loadSharp();
      let meta: Metadata;
      try {
        meta = await sharp(source, { limitInputPixels: false }).metadata();
      } catch {
        throw cannotThumbnail();
      }
      if (!meta.format || !DECODABLE_FORMATS.has(meta.format) || (meta.format === 'heif' && meta.compression !== 'av1')) throw cannotThumbnail();
      if ((meta.width ?? 0) * (meta.pageHeight ?? meta.height ?? 0) > MAX_SOURCE_PIXELS) {
        throw new MatrixError(413, 'M_TOO_LARGE', 'Content is too large to thumbnail');
      }
      const animated = spec.animated && (meta.pages ?? 1) > 1;
      let img = sharp(source, { animated, limitInputPixels: MAX_SOURCE_PIXELS, failOn: 'error' })
        .rotate()
        .resize(spec.width, spec.height, { fit: spec.method === 'crop' ? 'cover' : 'inside', withoutEnlargement: true });
      let contentType: string;
      if (animated) {
        img = img.webp({ quality: 80, effort: 2 });
        contentType = 'image/webp';
      } else if (meta.format === 'jpeg') {
        img = img.jpeg({ quality: 80, mozjpeg: false });
        contentType = 'image/jpeg';
      } else {
        img = img.png({ compressionLevel: 6 });
        contentType = 'image/png';
      }
      try {
        const info = await img.toFile(dest);
        return { contentType, size: info.size };
      } catch {
        throw cannotThumbnail();
      }
    } finally {
      this.release();
    }
  }

  private async slot(): Promise<void> {
    if (this.running < this.concurrency) {
      this.running++;
      return;
    }
    await new Promise<void>((resolve) => this.queue.push(resolve));
  }

  private release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.running--;
  }
}

const cannotThumbnail = (): MatrixError => new MatrixError(400, 'M_UNKNOWN', 'Cannot generate thumbnails for the requested content');
