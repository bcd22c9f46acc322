/**
 * sharp (libvips) is loaded on first use: it costs ~25 MB of memory, and a server that nobody has
 * sent a picture to yet should not pay it.
 */
import type SharpFn from 'sharp';

export type Sharp = typeof SharpFn;
let sharpModule: Promise<Sharp> | undefined;

export function loadSharp(): Promise<Sharp> {
  return (sharpModule ??= import('sharp').then((m) => {
    const sharp = m.default;
    // libvips' operation cache trades memory for repeated identical work we never do.
    sharp.cache(false);
    return sharp;
  }));
}
