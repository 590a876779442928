/**
 * The luminance statistics of a baseline JPEG read from its DCT coefficients, without
 * decoding a pixel (ITU-T T.81, the JPEG standard). The picture check needs the mean
 * luminance, its standard deviation, a sharpness and a digest of the picture; a full decode
 * (jpeg-js) makes an RGBA frame plus a typed array per 8x8 block for every snapshot: about
 * 1 MiB of garbage for a 320x180 picture, 20 MiB for a 4 MP one, 33 times a second at 500
 * cameras, which is what kept the agent's young generation (and its resident size) large.
 *
 * Why the coefficients are enough: the JPEG forward DCT (T.81 A.3.3) is orthonormal, so for
 * each 8x8 block of the Y component the mean of its samples is 128 + DC/8 and the sum of the
 * squared deviations from that mean is the sum of the squared AC coefficients (Parseval).
 * The whole picture's mean and variance follow from those per-block sums exactly, up to the
 * quantization the encoder applied and the clamping a decoder would add.
 *
 * The sharpness is the variance of the Laplacian of the luma (Pech-Pacheco et al., "Diatom
 * autofocusing in brightfield microscopy: a comparative study", ICPR 2000; OpenCV's
 * `Laplacian(gray).var()`), also without a pixel: the DCT-II basis is the set of
 * eigenvectors of the second difference with reflecting (Neumann) ends (G. Strang, "The
 * Discrete Cosine Transform", SIAM Review 41(1), 1999), so inside a block the 5-point
 * Laplacian of the picture is sum (lambda(u) + lambda(v)) F(u,v) basis(u,v) with
 * lambda(k) = 4 sin^2(pi k / 16), and the sum of its squares is
 * sum (lambda(u) + lambda(v))^2 F(u,v)^2 (Parseval again): one multiply per coefficient the
 * decoder reads anyway. Differences across block edges are left out (they carry the
 * encoder's blocking more than the scene). Pictures larger than 1280 pixels (longer side)
 * are measured at a working scale of 1/2 or 1/4 (`workingScale`): the K x K lowest
 * coefficients of each block, K = 8 / scale, are the block shrunk to K x K (DCT-domain
 * downsampling, Dugad and Ahuja, IEEE TCSVT 11(4), 2001), so the finest detail a 4 MP
 * sensor adds, and its noise, do not swamp what the lens's focus changes.
 *
 * Only what cameras send is read: baseline or extended sequential Huffman coding, 8-bit
 * samples (SOF0/SOF1), interleaved or not, restart intervals. Anything else (progressive,
 * arithmetic, 12-bit, hierarchical) throws `UnsupportedJpeg`, and the caller decodes it
 * the long way.
 */

export class UnsupportedJpeg extends Error {}

/**
 * The scan's data ends before its last block: a snapshot cut short (a camera serving the
 * frame it is still encoding, a proxy's short read) and closed by an end marker, or by
 * none. T.81 F.2.2.5 lets a decoder read zero bits past a marker, and all-zero Huffman
 * codes are valid, so a lenient decoder (jpeg-js too) fills the missing blocks with made-up
 * coefficients: a wrong picture, measured as if whole. Not to be decoded another way.
 */
export class TruncatedJpeg extends Error {}

export interface LumaStats {
  width: number;
  height: number;
  /** Mean luminance, 0-255. */
  luma: number;
  /** Standard deviation of the luminance. */
  contrast: number;
  /**
   * Variance of the Laplacian of the luma at the working scale over the variance of the
   * luma: the share of the picture's contrast that is fine detail. Unitless, and the same
   * under any exposure or gain (both variances scale alike), so a scene at dusk keeps the
   * sharpness it had at noon while a lens out of focus loses it.
   */
  sharpness: number;
  /**
   * A 32-bit digest of the picture as coded (FNV-1a over the size, the luma's quantization
   * table and the scan's entropy-coded bytes): equal for two snapshots of one encoder whose
   * pixels are identical, different as soon as sensor noise moved one coefficient.
   */
  digest: number;
  /**
   * A 32-bit digest of the size and the luma's quantization table alone: what the sharpness
   * depends on besides the scene and the focus. The Laplacian weighs the highest
   * frequencies most, which are what the quantization zeroes, so another quality setting,
   * another snapshot size cap or another resolution (another working scale) moves the
   * sharpness by large factors with the same lens: a sharpness is comparable only with one
   * of the same `quality`.
   */
  quality: number;
}

/** Pictures up to this size (longer side) are measured at full scale; larger at 1/2 or 1/4. */
export const WORKING_SIZE = 1280;

/** 1, 2 or 4: the shrinking that brings a picture's longer side near WORKING_SIZE (at most 1/4). */
export function workingScale(width: number, height: number): 1 | 2 | 4 {
  const size = Math.max(width, height);
  if (size <= WORKING_SIZE) return 1;
  return size <= 2 * WORKING_SIZE ? 2 : 4;
}

/** The JPEG zigzag order (T.81 figure A.6): natural index (row * 8 + column) of each k. */
const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
  13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52,
  45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/**
 * Per zigzag index: (lambda(u) + lambda(v))^2 of the K-point second difference, for the
 * coefficients a block shrunk to K x K keeps, 0 for the others.
 */
const LAPLACIAN_WEIGHTS = new Map(
  ([1, 2, 4] as const).map((scale) => {
    const k = 8 / scale;
    const lambda = (f: number): number => 4 * Math.sin((Math.PI * f) / (2 * k)) ** 2;
    const weights = new Float64Array(64);
    ZIGZAG.forEach((natural, z) => {
      const v = Math.floor(natural / 8);
      const u = natural % 8;
      weights[z] = u < k && v < k ? (lambda(u) + lambda(v)) ** 2 : 0;
    });
    return [scale, weights];
  }),
);

/** One step of FNV-1a on a 32-bit word: each step is a bijection, so one changed word shows. */
export function mix(hash: number, word: number): number {
  return Math.imul(hash ^ word, 16777619) >>> 0;
}

/** FNV-1a's offset basis. */
export const DIGEST_START = 2166136261;

/** Sharpness from the two variances; a picture without contrast has none to speak of. */
export function sharpnessOf(laplacianVariance: number, contrast: number): number {
  return laplacianVariance / Math.max(1, contrast * contrast);
}

interface Component {
  id: number;
  h: number;
  v: number;
  quant: number;
  blocksPerLine: number;
  blocksPerColumn: number;
  dcTable: Huffman | null;
  acTable: Huffman | null;
  pred: number;
}

/** A canonical Huffman table (T.81 F.2.2.3, the DECODE procedure). */
interface Huffman {
  maxCode: Int32Array;
  valPtr: Int32Array;
  minCode: Int32Array;
  values: Uint8Array;
}

function huffman(counts: Uint8Array, values: Uint8Array): Huffman {
  const maxCode = new Int32Array(18).fill(-1);
  const valPtr = new Int32Array(17);
  const minCode = new Int32Array(17);
  let code = 0;
  let k = 0;
  for (let length = 1; length <= 16; length++) {
    const n = counts[length - 1] ?? 0;
    valPtr[length] = k;
    minCode[length] = code;
    code += n;
    k += n;
    maxCode[length] = n > 0 ? code - 1 : -1;
    code <<= 1;
  }
  // A sentinel so that DECODE stops on a corrupt stream.
  maxCode[17] = 0x7fffffff;
  return { maxCode, valPtr, minCode, values };
}

/** The entropy-coded bits of a scan: 0xFF00 is a data 0xFF, any other 0xFF is a marker. */
class Bits {
  readonly #data: Uint8Array;
  #pos: number;
  #buffer = 0;
  #count = 0;
  /** A marker was reached: the scan's data is over (reads give zero bits, T.81 F.2.2.5). */
  marker = false;

  constructor(data: Uint8Array, pos: number) {
    this.#data = data;
    this.#pos = pos;
  }

  get pos(): number {
    return this.#pos;
  }

  bit(): number {
    if (this.#count === 0) {
      if (this.marker || this.#pos >= this.#data.length) {
        if (this.#pos >= this.#data.length)
          throw new TruncatedJpeg('the JPEG ends inside its picture data');
        this.#buffer = 0;
      } else {
        const byte = this.#data[this.#pos] ?? 0;
        if (byte === 0xff) {
          const next = this.#data[this.#pos + 1] ?? 0;
          if (next === 0) {
            this.#pos += 2;
          } else {
            this.marker = true;
            this.#buffer = 0;
            this.#count = 8;
            return this.bit();
          }
        } else {
          this.#pos += 1;
        }
        this.#buffer = byte;
      }
      this.#count = 8;
    }
    this.#count -= 1;
    return (this.#buffer >> this.#count) & 1;
  }

  receive(length: number): number {
    let value = 0;
    for (let i = 0; i < length; i++) value = (value << 1) | this.bit();
    return value;
  }

  /** RECEIVE and EXTEND (T.81 F.2.2.1): a signed value of `length` bits. */
  extend(length: number): number {
    if (length === 0) return 0;
    const value = this.receive(length);
    return value < 1 << (length - 1) ? value - (1 << length) + 1 : value;
  }

  decode(table: Huffman): number {
    let code = this.bit();
    let length = 1;
    while (code > (table.maxCode[length] ?? 0x7fffffff)) {
      code = (code << 1) | this.bit();
      length += 1;
    }
    if (length > 16) throw new Error('the JPEG has a corrupt Huffman code');
    const index = (table.valPtr[length] ?? 0) + code - (table.minCode[length] ?? 0);
    return table.values[index] ?? 0;
  }

  /** At a restart marker (T.81 F.1.2.3): skip to it and past it. */
  restart(): void {
    this.#count = 0;
    this.marker = false;
    while (this.#pos + 1 < this.#data.length) {
      if (this.#data[this.#pos] === 0xff && (this.#data[this.#pos + 1] ?? 0) >= 0xd0) {
        const marker = this.#data[this.#pos + 1] ?? 0;
        if (marker <= 0xd7) this.#pos += 2;
        return;
      }
      this.#pos += 1;
    }
  }
}

/** Coefficients per 8x8 block; the AC ones come in zigzag order, as the DQT lists them. */
const COEFFICIENTS = 64;

export function lumaStats(jpeg: Uint8Array): LumaStats {
  const data = jpeg;
  if (data[0] !== 0xff || data[1] !== 0xd8) throw new Error('not a JPEG (no SOI marker)');
  const quant: (Int32Array | undefined)[] = [];
  const dcTables: (Huffman | undefined)[] = [];
  const acTables: (Huffman | undefined)[] = [];
  let components: Component[] = [];
  let width = 0;
  let height = 0;
  let maxH = 1;
  let maxV = 1;
  let restartInterval = 0;
  let pos = 2;
  const u16 = (at: number): number => ((data[at] ?? 0) << 8) | (data[at + 1] ?? 0);
  for (;;) {
    if (pos + 4 > data.length) throw new Error('the JPEG ends before its picture data');
    if (data[pos] !== 0xff) throw new Error(`the JPEG has no marker at byte ${pos}`);
    const marker = data[pos + 1] ?? 0;
    if (marker === 0xff) {
      pos += 1; // fill byte (T.81 B.1.1.2)
      continue;
    }
    const length = u16(pos + 2);
    const body = pos + 4;
    const end = pos + 2 + length;
    if (marker === 0xc0 || marker === 0xc1) {
      if (data[body] !== 8) throw new UnsupportedJpeg(`${data[body]}-bit samples`);
      height = u16(body + 1);
      width = u16(body + 3);
      if (width === 0 || height === 0) throw new UnsupportedJpeg('no size in the frame header');
      const count = data[body + 5] ?? 0;
      components = [];
      for (let i = 0; i < count; i++) {
        const at = body + 6 + i * 3;
        const sampling = data[at + 1] ?? 0x11;
        components.push({
          id: data[at] ?? 0,
          h: sampling >> 4 || 1,
          v: sampling & 15 || 1,
          quant: data[at + 2] ?? 0,
          blocksPerLine: 0,
          blocksPerColumn: 0,
          dcTable: null,
          acTable: null,
          pred: 0,
        });
      }
      maxH = Math.max(...components.map((c) => c.h));
      maxV = Math.max(...components.map((c) => c.v));
      for (const c of components) {
        c.blocksPerLine = Math.ceil(Math.ceil((width * c.h) / maxH) / 8);
        c.blocksPerColumn = Math.ceil(Math.ceil((height * c.v) / maxV) / 8);
      }
    } else if (
      marker >= 0xc2 &&
      marker <= 0xcf &&
      marker !== 0xc4 &&
      marker !== 0xc8 &&
      marker !== 0xcc
    ) {
      throw new UnsupportedJpeg(`frame type SOF${marker - 0xc0}`);
    } else if (marker === 0xc4) {
      let at = body;
      while (at < end) {
        const which = data[at] ?? 0;
        const counts = data.subarray(at + 1, at + 17);
        const total = counts.reduce((a, b) => a + b, 0);
        const table = huffman(counts, data.slice(at + 17, at + 17 + total));
        if (which >> 4 === 0) dcTables[which & 15] = table;
        else acTables[which & 15] = table;
        at += 17 + total;
      }
    } else if (marker === 0xdb) {
      let at = body;
      while (at < end) {
        const which = data[at] ?? 0;
        const wide = which >> 4 === 1;
        const table = new Int32Array(64);
        for (let k = 0; k < 64; k++) {
          table[k] = wide ? u16(at + 1 + k * 2) : (data[at + 1 + k] ?? 0);
        }
        quant[which & 15] = table;
        at += 1 + (wide ? 128 : 64);
      }
    } else if (marker === 0xdd) {
      restartInterval = u16(body);
    } else if (marker === 0xda) {
      if (components.length === 0) throw new Error('the JPEG has a scan before its frame header');
      const count = data[body] ?? 0;
      const scan: Component[] = [];
      for (let i = 0; i < count; i++) {
        const id = data[body + 1 + i * 2] ?? 0;
        const tables = data[body + 2 + i * 2] ?? 0;
        const c = components.find((x) => x.id === id);
        if (!c) throw new Error(`the JPEG scan names an unknown component ${id}`);
        c.dcTable = dcTables[tables >> 4] ?? null;
        c.acTable = acTables[tables & 15] ?? null;
        scan.push(c);
      }
      const luma = components[0];
      if (!luma || scan[0] !== luma) {
        // Cameras interleave; a scan without Y first is rare enough to decode fully.
        throw new UnsupportedJpeg('a scan without the luminance component first');
      }
      return scanStats(data, end, scan, luma, quant[luma.quant], {
        width,
        height,
        maxH,
        maxV,
        restartInterval,
      });
    } else if (marker === 0xd9) {
      throw new Error('the JPEG has no picture data');
    }
    pos = end;
  }
}

function scanStats(
  data: Uint8Array,
  start: number,
  scan: Component[],
  luma: Component,
  q: Int32Array | undefined,
  frame: { width: number; height: number; maxH: number; maxV: number; restartInterval: number },
): LumaStats {
  if (!q) throw new Error('the JPEG has no quantization table for its luminance');
  for (const c of scan) {
    if (!c.dcTable || !c.acTable) throw new Error('the JPEG scan lacks a Huffman table');
    c.pred = 0;
  }
  const { width, height, maxH, maxV, restartInterval } = frame;
  const bits = new Bits(data, start);
  const weights = LAPLACIAN_WEIGHTS.get(workingScale(width, height)) as Float64Array;
  let sum = 0;
  let squares = 0;
  /** Blocks counted, in units of a whole block (edge blocks count for part of one). */
  let blocks = 0;
  /** Sum of the squared Laplacian over whole blocks, and how many whole blocks. */
  let laplacian = 0;
  let wholeBlocks = 0;
  const take = (row: number, col: number, dc: number, acEnergy: number, lap: number): void => {
    const x = col * 8;
    const y = row * 8;
    if (x >= width || y >= height) return; // padding blocks of the last MCUs
    // A block across the right or bottom edge counts for its pixels inside the picture
    // (the rest is the encoder's padding, usually the edge repeated).
    const weight = (Math.min(8, width - x) * Math.min(8, height - y)) / 64;
    const mean = 128 + dc / 8;
    sum += weight * mean;
    squares += weight * (acEnergy / 64 + mean * mean);
    blocks += weight;
    // The Laplacian only of whole blocks: the padding's made-up edge is no detail.
    if (weight === 1) {
      laplacian += lap;
      wholeBlocks += 1;
    }
  };
  const block = (c: Component, row: number, col: number): void => {
    const dcTable = c.dcTable as Huffman;
    const acTable = c.acTable as Huffman;
    const t = bits.decode(dcTable);
    c.pred += bits.extend(t);
    const isLuma = c === luma;
    let energy = 0;
    let lap = 0;
    for (let k = 1; k < COEFFICIENTS;) {
      const rs = bits.decode(acTable);
      const r = rs >> 4;
      const s = rs & 15;
      if (s === 0) {
        if (r !== 15) break; // end of block
        k += 16;
        continue;
      }
      k += r;
      const value = bits.extend(s);
      if (isLuma && k < COEFFICIENTS) {
        const coefficient = value * (q[k] ?? 1);
        const squared = coefficient * coefficient;
        energy += squared;
        lap += (weights[k] ?? 0) * squared;
      }
      k += 1;
    }
    if (isLuma) take(row, col, c.pred * (q[0] ?? 1), energy, lap);
  };
  const single = scan.length === 1;
  const mcusPerLine = single ? luma.blocksPerLine : Math.ceil(width / (8 * maxH));
  const mcusPerColumn = single ? luma.blocksPerColumn : Math.ceil(height / (8 * maxV));
  const total = mcusPerLine * mcusPerColumn;
  for (let mcu = 0; mcu < total; mcu++) {
    if (restartInterval > 0 && mcu > 0 && mcu % restartInterval === 0) {
      bits.restart();
      for (const c of scan) c.pred = 0;
    }
    const mcuRow = Math.floor(mcu / mcusPerLine);
    const mcuCol = mcu % mcusPerLine;
    if (single) {
      block(luma, mcuRow, mcuCol);
    } else {
      for (const c of scan) {
        for (let v = 0; v < c.v; v++) {
          for (let h = 0; h < c.h; h++) block(c, mcuRow * c.v + v, mcuCol * c.h + h);
        }
      }
    }
    // A whole segment's bits come before its marker (its last byte padded with 1-bits,
    // T.81 F.1.2.3), so a decoder that reads into the marker before the segment's last MCU
    // is reading made-up zeros. Only the last MCU of a segment may run into it: some
    // encoders leave out the last padding byte, which libjpeg accepts with a warning.
    const lastOfSegment =
      mcu === total - 1 || (restartInterval > 0 && (mcu + 1) % restartInterval === 0);
    if (bits.marker && !lastOfSegment) {
      throw new TruncatedJpeg(
        `the JPEG's picture data ends after ${mcu + 1} of its ${total} coded units (MCUs): cut short and closed by a marker`,
      );
    }
  }
  if (blocks === 0) throw new Error('the JPEG has no pixels');
  // The coded bytes of the scan with the size and the luma's quantization: one encoder
  // codes the same coefficients into the same bytes, and any other into other bytes.
  let digest = mix(mix(DIGEST_START, width), height);
  for (let k = 0; k < COEFFICIENTS; k++) digest = mix(digest, q[k] ?? 0);
  const quality = digest;
  const end = Math.min(bits.pos, data.length);
  for (let i = start; i < end; i++) digest = Math.imul(digest ^ (data[i] ?? 0), 16777619);
  digest >>>= 0;
  const mean = sum / blocks;
  const contrast = Math.sqrt(Math.max(0, squares / blocks - mean * mean));
  // Per pixel of the working scale: a block shrunk to K x K holds F(u,v) K / 8 (the
  // orthonormal DCT's scaling) over K^2 pixels, so K cancels: the sum over 64, every scale.
  const laplacianVariance = wholeBlocks > 0 ? laplacian / (64 * wholeBlocks) : 0;
  return {
    width,
    height,
    luma: mean,
    contrast,
    sharpness: sharpnessOf(laplacianVariance, contrast),
    digest,
    quality,
  };
}
