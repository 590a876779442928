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

/** Mixed into the quality of a picture decoded in full (no quantization table known). */
const DECODED = 0xdec0ded;

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
    // The quantization is not seen from here, and pixels shrunk by averaging measure a
    // little otherwise than coefficients: a quality of its own, never one of lumaStats'.
    quality: mix(mix(mix(DIGEST_START, width), height), DECODED),
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
 * same rule. A digest of the coded picture tells it without keeping the last picture: the
 * same coded bytes, which a healthy channel also serves when its snapshot is a cached JPEG
 * or an NVR's decode of a static scene its encoder coded as skipped frames (agent/README.md,
 * Pictures).
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
 *
 * Robust by construction, since one baseline judges a camera for months:
 * - While it learns, `usual` is a high quantile (LEARN_QUANTILE) of the pictures so far: one
 *   odd picture among them (motion, a wiper, a cut snapshot) is not the usual.
 * - Then it follows a quantile by signs only (stochastic approximation of the quantile,
 *   Robbins and Monro 1951; the "frugal" streaming quantile of Ma, Muthukrishnan and
 *   Sandler, 2013), in the logarithm: a picture above multiplies it by e^RISE (4 %), one
 *   below by e^-FALL (1 %), never past the picture itself. In equilibrium a share
 *   RISE / (RISE + FALL) = 80 % of the pictures lies below it; however wild one picture is,
 *   it moves the usual by 4 % and no more.
 * - A picture judged low (below blurFraction) still teaches, 5 times slower (SETTLE): a
 *   camera turned to a plainer view, snow, a lamp gone, is learned in hours (a loss to 1/5
 *   in about 1.5 h at the 15 s poll) instead of being blurred for ever, while a knocked lens
 *   is told after blurPolls polls, as before, and stays told for hours.
 * - It is judged against the lowest usual of the last 24 hours (`floors`), not the usual of
 *   the moment: at night, gain noise is nearly all Laplacian energy (the sharpness of a
 *   noisy night picture is many times the day's), so the usual climbs through the night;
 *   in the morning the day's pictures are judged against the day's usual of the day
 *   before, not against the night's.
 */
export interface SharpnessBaseline {
  /** The usual sharpness (see above). */
  usual: number;
  /** Pictures learned. */
  learned: number;
  /** Polls in a row below blurFraction of the reference. */
  below: number;
  /**
   * The contrast (luma standard deviation) of the pictures learned, followed by signs as
   * the usual is (CONTRAST_STEP a poll): a low picture with CONTRAST_RISE times more
   * contrast is a change of light or view, not a blur, and starts a new baseline. NaN until
   * a contrast was given.
   */
  contrast: number;
  /** The pictures' `quality` (size and quantization): another one starts a new baseline. */
  quality: number;
  /** While learning: the sharpness of the pictures learned (LEARN_WINDOW latest); empty after. */
  window: number[];
  /** The lowest usual of each hour (ms since the epoch / 1 h) of the last 24. */
  floors: { hour: number; usual: number }[];
}

/** Per poll, in the logarithm: a picture above the usual raises it 4 %... */
export const RISE = 0.04;
/** ...one below (not judged low) lowers it 1 %: the 80th percentile... */
export const FALL = 0.01;
/** ...and one judged low lowers it 0.2 %: a factor 2 in 350 polls, 1.5 h at the 15 s poll. */
export const SETTLE = 0.002;
/** The quantile of the pictures learned that is the usual once learning ends. */
export const LEARN_QUANTILE = 0.8;
/** A low picture with this many times the learned contrast is no blur (judgeSharpness). */
export const CONTRAST_RISE = 1.5;
/** Per learned picture, in the logarithm: the baseline's contrast follows by 1 %... */
export const CONTRAST_STEP = 0.01;
/** ...and while it learns, by 10 %. */
const LEARN_CONTRAST_STEP = 0.1;
/** Pictures kept while learning, at most: an hour at the 15 s poll, sorted in microseconds. */
export const LEARN_WINDOW = 240;
/** How long a usual of the past still judges: a day, so a night never judges a morning. */
export const FLOOR_HOURS = 24;
const HOUR_MS = 3_600_000;
/** Sharpness is a ratio of variances; below this it is no detail at all (log of 0). */
const LEAST = 1e-6;

/** A baseline for pictures of this `quality`, nothing learned yet. */
export function newBaseline(quality: number): SharpnessBaseline {
  return { usual: 0, learned: 0, below: 0, contrast: Number.NaN, quality, window: [], floors: [] };
}

/** What a picture is judged against: the lowest usual of the last FLOOR_HOURS, or now's. */
export function blurReference(baseline: SharpnessBaseline): number {
  let least = baseline.usual;
  for (const floor of baseline.floors) least = Math.min(least, floor.usual);
  return least;
}

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
 * baseline and learns from it (see SharpnessBaseline); `at` is the gateway clock (ms).
 * Until `blurBaselinePolls` pictures are learned nothing is judged. Returns whether the
 * picture counts as blurred now: below blurFraction of the reference for blurPolls polls.
 */
export function judgeSharpness(
  baseline: SharpnessBaseline,
  sharpness: number,
  settings: BlurSettings,
  at: number = Date.now(),
  contrast: number = Number.NaN,
): boolean {
  const value = Math.max(LEAST, sharpness);
  if (baseline.learned < settings.blurBaselinePolls) {
    follow(baseline, contrast, baseline.learned === 0 ? Infinity : LEARN_CONTRAST_STEP);
    baseline.window.push(value);
    // A long learning (blurBaselinePolls up to 100 000) keeps its latest pictures only.
    if (baseline.window.length > LEARN_WINDOW) baseline.window.shift();
    baseline.learned += 1;
    const sorted = [...baseline.window].sort((a, b) => a - b);
    baseline.usual = sorted[Math.floor(LEARN_QUANTILE * (sorted.length - 1))] ?? value;
    if (baseline.learned >= settings.blurBaselinePolls) {
      // Learned: the usual from here on judges, and is remembered as this hour's.
      baseline.window = [];
      remember(baseline, at);
    }
    return false;
  }
  const low = value < settings.blurFraction * blurReference(baseline);
  if (low && contrast > CONTRAST_RISE * baseline.contrast) {
    // Less detail with much more contrast is no blur: a lens out of focus, mist or dirt is
    // a low-pass filter (a kernel of non-negative weights summing to 1, |H| <= 1 at every
    // frequency), which never raises the luma's variance. The light changed (the morning
    // after a noisy night the agent started in, the IR-cut filter switching) or the view
    // did: learned anew, as after a change of quality.
    Object.assign(baseline, newBaseline(baseline.quality));
    return judgeSharpness(baseline, sharpness, settings, at, contrast);
  }
  if (low) {
    baseline.below += 1;
    baseline.usual = Math.max(value, baseline.usual * Math.exp(-SETTLE));
  } else {
    baseline.below = 0;
    baseline.usual =
      value > baseline.usual
        ? Math.min(value, baseline.usual * Math.exp(RISE))
        : Math.max(value, baseline.usual * Math.exp(-FALL));
    baseline.learned += 1;
    follow(baseline, contrast, CONTRAST_STEP);
  }
  remember(baseline, at);
  return low && baseline.below >= settings.blurPolls;
}

/** Moves the baseline's contrast toward a learned picture's, by at most `step` (log). */
function follow(baseline: SharpnessBaseline, contrast: number, step: number): void {
  if (!Number.isFinite(contrast) || contrast <= 0) return;
  if (!Number.isFinite(baseline.contrast) || step === Infinity) {
    baseline.contrast = contrast;
    return;
  }
  const move = Math.max(-step, Math.min(step, Math.log(contrast / baseline.contrast)));
  baseline.contrast *= Math.exp(move);
}

/** Keeps the lowest usual of this hour, and forgets hours older than FLOOR_HOURS. */
function remember(baseline: SharpnessBaseline, at: number): void {
  const hour = Math.floor(at / HOUR_MS);
  baseline.floors = baseline.floors.filter((f) => f.hour > hour - FLOOR_HOURS && f.hour <= hour);
  const now = baseline.floors.find((f) => f.hour === hour);
  if (now) now.usual = Math.min(now.usual, baseline.usual);
  else baseline.floors.push({ hour, usual: baseline.usual });
}
