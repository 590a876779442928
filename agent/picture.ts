/**
 * What a snapshot shows, judged without a person: black (no light or no signal), covered
 * (nearly uniform: a lens under a cap, paint, or fog), or unchanged over several polls
 * (frozen encoder). The only importer of jpeg-js, which decodes what jpeg-luma.ts cannot read.
 */
import jpeg from 'jpeg-js';
import { lumaStats } from './jpeg-luma.js';

export interface PictureStats {
  width: number;
  height: number;
  /** Mean luminance, 0-255 (ITU-R BT.601 weights). */
  luma: number;
  /** Standard deviation of the luminance: detail in the picture. */
  contrast: number;
  /** 8x8 mean luminance grid: two pictures of a live scene differ somewhere in it. */
  fingerprint: number[];
}

export type PictureVerdict = 'ok' | 'black' | 'covered';

/** Below this mean luminance a picture is black. */
export const BLACK_LUMA = 16;
/** Below this contrast (luminance standard deviation) a picture is covered. */
export const COVERED_CONTRAST = 6;

/**
 * The statistics of a JPEG; throws an Error with a readable message when it is not one.
 * Read from the DCT coefficients of baseline JPEGs (what cameras send; no pixel is
 * decoded, see jpeg-luma.ts); anything else is decoded in full by jpeg-js.
 */
export function analyse(bytes: Buffer): PictureStats {
  try {
    return lumaStats(bytes);
  } catch {
    // Progressive, 12-bit, damaged: jpeg-js tells what is wrong, or decodes it anyway.
    return decodeAndAnalyse(bytes);
  }
}

/** The long way: every pixel decoded to RGBA, every 4th one in each direction sampled. */
export function decodeAndAnalyse(bytes: Buffer): PictureStats {
  const image = jpeg.decode(bytes, {
    useTArray: true,
    maxMemoryUsageInMB: 256,
    formatAsRGBA: true,
  });
  const { width, height, data } = image;
  if (width === 0 || height === 0) throw new Error('the JPEG has no pixels');
  const grid = new Array<number>(64).fill(0);
  const counts = new Array<number>(64).fill(0);
  let sum = 0;
  let squares = 0;
  let n = 0;
  // Every 4th pixel in each direction: plenty for the mean and contrast of a scene.
  for (let y = 0; y < height; y += 4) {
    for (let x = 0; x < width; x += 4) {
      const i = (y * width + x) * 4;
      const l = 0.299 * (data[i] ?? 0) + 0.587 * (data[i + 1] ?? 0) + 0.114 * (data[i + 2] ?? 0);
      sum += l;
      squares += l * l;
      n += 1;
      const cell = Math.floor((y * 8) / height) * 8 + Math.floor((x * 8) / width);
      grid[cell] = (grid[cell] ?? 0) + l;
      counts[cell] = (counts[cell] ?? 0) + 1;
    }
  }
  const luma = sum / n;
  const contrast = Math.sqrt(Math.max(0, squares / n - luma * luma));
  return {
    width,
    height,
    luma,
    contrast,
    fingerprint: grid.map((v, i) => v / Math.max(1, counts[i] ?? 1)),
  };
}

export function verdict(stats: PictureStats): PictureVerdict {
  if (stats.luma < BLACK_LUMA) return 'black';
  if (stats.contrast < COVERED_CONTRAST) return 'covered';
  return 'ok';
}

/** Two pictures are the same frame when no cell of their grids moved by a visible step. */
export function samePicture(a: PictureStats, b: PictureStats): boolean {
  return a.fingerprint.every((v, i) => Math.abs(v - (b.fingerprint[i] ?? -1000)) < 0.5);
}
