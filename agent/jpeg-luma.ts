/**
 * The luminance statistics of a baseline JPEG read from its DCT coefficients, without
 * decoding a pixel (ITU-T T.81, the JPEG standard). The picture check needs only the mean
 * luminance, its standard deviation and an 8x8 grid of means; a full decode (jpeg-js) makes
 * an RGBA frame plus a typed array per 8x8 block for every snapshot: about 1 MiB of garbage
 * for a 320x180 picture, 20 MiB for a 4 MP one, 33 times a second at 500 cameras, which is
 * what kept the agent's young generation (and its resident size) large.
 *
 * Why the coefficients are enough: the JPEG forward DCT (T.81 A.3.3) is orthonormal, so for
 * each 8x8 block of the Y component the mean of its samples is 128 + DC/8 and the sum of the
 * squared deviations from that mean is the sum of the squared AC coefficients (Parseval).
 * The whole picture's mean and variance follow from those per-block sums exactly, up to the
 * quantization the encoder applied and the clamping a decoder would add.
 *
 * Only what cameras send is read: baseline or extended sequential Huffman coding, 8-bit
 * samples (SOF0/SOF1), interleaved or not, restart intervals. Anything else (progressive,
 * arithmetic, 12-bit, hierarchical) throws `UnsupportedJpeg`, and the caller decodes it
 * the long way.
 */

export class UnsupportedJpeg extends Error {}

export interface LumaStats {
  width: number;
  height: number;
  /** Mean luminance, 0-255. */
  luma: number;
  /** Standard deviation of the luminance. */
  contrast: number;
  /** 8x8 grid of mean luminance, row by row. */
  fingerprint: number[];
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
          throw new Error('the JPEG ends inside its picture data');
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
  const grid = new Float64Array(64);
  const counts = new Float64Array(64);
  let sum = 0;
  let squares = 0;
  /** Blocks counted, in units of a whole block (edge blocks count for part of one). */
  let blocks = 0;
  const take = (row: number, col: number, dc: number, acEnergy: number): void => {
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
    const cell =
      Math.floor((Math.min(y + 4, height - 1) * 8) / height) * 8 +
      Math.floor((Math.min(x + 4, width - 1) * 8) / width);
    grid[cell] = (grid[cell] ?? 0) + weight * mean;
    counts[cell] = (counts[cell] ?? 0) + weight;
  };
  const block = (c: Component, row: number, col: number): void => {
    const dcTable = c.dcTable as Huffman;
    const acTable = c.acTable as Huffman;
    const t = bits.decode(dcTable);
    c.pred += bits.extend(t);
    const isLuma = c === luma;
    let energy = 0;
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
      if (isLuma) {
        const coefficient = value * (q[k] ?? 1);
        energy += coefficient * coefficient;
      }
      k += 1;
    }
    if (isLuma) take(row, col, c.pred * (q[0] ?? 1), energy);
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
      continue;
    }
    for (const c of scan) {
      for (let v = 0; v < c.v; v++) {
        for (let h = 0; h < c.h; h++) block(c, mcuRow * c.v + v, mcuCol * c.h + h);
      }
    }
  }
  if (blocks === 0) throw new Error('the JPEG has no pixels');
  const mean = sum / blocks;
  const contrast = Math.sqrt(Math.max(0, squares / blocks - mean * mean));
  return {
    width,
    height,
    luma: mean,
    contrast,
    fingerprint: [...grid].map((v, i) => ((counts[i] ?? 0) > 0 ? v / (counts[i] ?? 1) : 0)),
  };
}
