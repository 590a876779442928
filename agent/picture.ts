/**
 * What a snapshot shows, judged without a person: black (no light or no signal), covered
 * (nearly uniform: a lens under a cap, paint, or fog), blurred (out of focus against the
 * camera's own usual sharpness), or frozen (the same picture, to the pixel, over several
 * polls). The only importer of jpeg-js, which decodes what jpeg-luma.ts cannot read.
 */
import jpeg from 'jpeg-js';
import {
  DIGEST_START,
  lumaStats,
  TruncatedJpeg,
  mix,
  sharpnessOf,
  workingScale,
  type LumaStats,
} from './jpeg-luma.js';

/** Size, mean luminance (BT.601), contrast, sharpness and digest: see LumaStats. */
export type PictureStats = LumaStats;

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
  } catch (error) {
    // Cut short: jpeg-js would "decode" it anyway, with made-up blocks (jpeg-luma.ts).
    if (error instanceof TruncatedJpeg) throw error;
    // Progressive, 12-bit, damaged: jpeg-js tells what is wrong, or decodes it anyway.
    return decodeAndAnalyse(bytes);
  }
}

/**
 * The long way: every pixel decoded to RGBA. The same figures as jpeg-luma.ts, from pixels:
 * the Laplacian inside each whole 8x8 block (reflecting ends), after shrinking the block to
 * the working scale by averaging (close to, not exactly, the DCT-domain shrinking there);
 * the digest over every pixel's luma, rounded. Rare (cameras send baseline JPEGs), so plain code.
 */
export function decodeAndAnalyse(bytes: Buffer): PictureStats {
  const image = jpeg.decode(bytes, {
    useTArray: true,
    maxMemoryUsageInMB: 256,
    formatAsRGBA: true,
  });
  const { width, height, data } = image;
  if (width === 0 || height === 0) throw new Error('the JPEG has no pixels');
  const luma = new Float32Array(width * height);
  let sum = 0;
  let squares = 0;
  let digest = mix(mix(DIGEST_START, width), height);
  for (let p = 0; p < luma.length; p++) {
    const i = p * 4;
    const l = 0.299 * (data[i] ?? 0) + 0.587 * (data[i + 1] ?? 0) + 0.114 * (data[i + 2] ?? 0);
    luma[p] = l;
    sum += l;
    squares += l * l;
    digest = mix(digest, Math.round(l));
  }
  const n = luma.length;
  const mean = sum / n;
  const contrast = Math.sqrt(Math.max(0, squares / n - mean * mean));
  const scale = workingScale(width, height);
  const k = 8 / scale;
  const cell = new Float64Array(k * k);
  let laplacian = 0;
  let wholeBlocks = 0;
  for (let by = 0; by + 8 <= height; by += 8) {
    for (let bx = 0; bx + 8 <= width; bx += 8) {
      cell.fill(0);
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++) {
          const at = Math.floor(y / scale) * k + Math.floor(x / scale);
          cell[at] = (cell[at] ?? 0) + (luma[(by + y) * width + bx + x] ?? 0) / (scale * scale);
        }
      }
      let block = 0;
      for (let y = 0; y < k; y++) {
        for (let x = 0; x < k; x++) {
          const c = cell[y * k + x] ?? 0;
          // Neighbours outside the block repeat the pixel (reflecting ends): no difference.
          let l = 0;
          if (x > 0) l += (cell[y * k + x - 1] ?? 0) - c;
          if (x < k - 1) l += (cell[y * k + x + 1] ?? 0) - c;
          if (y > 0) l += (cell[(y - 1) * k + x] ?? 0) - c;
          if (y < k - 1) l += (cell[(y + 1) * k + x] ?? 0) - c;
          block += l * l;
        }
      }
      laplacian += block / (k * k);
      wholeBlocks += 1;
    }
  }
  return {
    width,
    height,
    luma: mean,
    contrast,
    sharpness: sharpnessOf(wholeBlocks > 0 ? laplacian / wholeBlocks : 0, contrast),
    digest,
  };
}

export function verdict(stats: PictureStats): PictureVerdict {
  if (stats.luma < BLACK_LUMA) return 'black';
  if (stats.contrast < COVERED_CONTRAST) return 'covered';
  return 'ok';
}

/**
 * Two snapshots are the same frame when their luma is identical to the pixel. A live
 * camera's sensor noise changes every frame, even of a scene where nothing moves and no
 * clock is drawn; an encoder or decoder that is stuck hands out the same frame again.
 * FFmpeg's freezedetect filter draws the line at a mean absolute difference of 0.001 of
 * full scale (its default `noise`, -60 dB), a quarter of one 8-bit step: in effect the
 * same rule. A digest of the coded picture tells it without keeping the last picture.
 */
export function samePicture(a: PictureStats, b: PictureStats): boolean {
  return a.digest === b.digest && a.width === b.width && a.height === b.height;
}

/** Settings of the blur judgement (agent/config.ts checks.*). */
export interface BlurSettings {
  /** Blurred below this fraction of the camera's usual sharpness... */
  blurFraction: number;
  /** ...for this many polls in a row... */
  blurPolls: number;
  /** ...once this many pictures taught it what is usual. */
  blurBaselinePolls: number;
}

/**
 * What a channel's camera usually shows, learned from its own pictures: a plain scene (a
 * white wall, a car park at night) has little detail and is not blurred for it, as the
 * tamper detectors of cameras compare with their own reference (Hikvision and Dahua
 * "defocus detection": a sensitivity against the camera's own picture).
 */
export interface SharpnessBaseline {
  /**
   * The usual sharpness: a high expectile of the pictures learned (Newey and Powell,
   * Econometrica 55(4), 1987), kept by an asymmetric moving average that rises 20 times
   * faster than it falls (`RISE`, `FALL`): about the 95th expectile, so a moment of motion
   * blur or rain does not lower it, and a slow change of the scene is followed within an
   * hour or two (200 polls, 50 minutes, per e-fold at the 15 s poll).
   */
  usual: number;
  /** Pictures learned. */
  learned: number;
  /** Polls in a row below blurFraction of usual. */
  below: number;
}

/** Per poll at the 15 s default: above, 10 % of the way up; below, 0.5 % of the way down. */
export const RISE = 0.1;
export const FALL = 0.005;

/** What the picture check keeps of each channel between polls (DeviceMemory.pictures). */
export interface ChannelPicture {
  stats: PictureStats;
  /** Polls in a row whose picture was the same as the one before. */
  unchanged: number;
  /** Null until a picture that is neither black nor covered was seen. */
  baseline: SharpnessBaseline | null;
}

/**
 * Judges a new picture (not black, not covered, not the same as the last one) against the
 * baseline and learns from it. A picture below the fraction is not learned, so a blurred
 * camera does not teach itself that blur is usual; until `blurBaselinePolls` pictures are
 * learned nothing is judged. Returns whether the picture counts as blurred now.
 */
export function judgeSharpness(
  baseline: SharpnessBaseline,
  sharpness: number,
  settings: BlurSettings,
): boolean {
  const judged = baseline.learned >= settings.blurBaselinePolls;
  if (judged && sharpness < settings.blurFraction * baseline.usual) {
    baseline.below += 1;
    return baseline.below >= settings.blurPolls;
  }
  baseline.below = 0;
  baseline.usual += (sharpness > baseline.usual ? RISE : FALL) * (sharpness - baseline.usual);
  baseline.learned += 1;
  return false;
}
