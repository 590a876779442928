/**
 * The only importer of jpeg-js: RGBA pixels in, baseline JPEG bytes out.
 *
 * jpeg-js builds its Huffman, category and colour tables (two arrays of 65,535 entries)
 * in the constructor of its encoder and exports only `encode`, which constructs one per
 * call: 47 ms of a 57 ms encode of a 320x180 picture, and at 500 devices (950 channel
 * pictures every 15 s) that was more than a core, so the simulator could not serve the
 * polls bench:agent asks of it. One encoder is kept per quality instead (encode resets
 * its bit writer and DC predictors on every call); its constructor is taken from the
 * library's own file, evaluated once in a context of its own. Should a version of
 * jpeg-js no longer have that constructor, every picture is encoded the slow way, with
 * the same bytes (test/unit/sim/jpeg.test.ts holds both paths to that).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { runInNewContext } from 'node:vm';
import jpeg from 'jpeg-js';

export interface RgbaImage {
  width: number;
  height: number;
  /** width * height * 4 bytes, row by row. */
  data: Uint8Array;
}

interface Encoder {
  encode(image: { width: number; height: number; data: Buffer }, quality: number): Buffer;
}
type EncoderClass = new (quality: number) => Encoder;

let encoderClass: EncoderClass | null | undefined;

/** jpeg-js's JPEGEncoder constructor, or null when its file has none (see the header). */
export function reusableEncoderClass(): EncoderClass | null {
  if (encoderClass !== undefined) return encoderClass;
  try {
    const file = createRequire(import.meta.url).resolve('jpeg-js/lib/encoder.js');
    const found: unknown = runInNewContext(
      `${readFileSync(file, 'utf8')}\n;typeof JPEGEncoder === 'function' ? JPEGEncoder : null`,
      // Its output is Buffer.from(bytes) where `module` exists, as under Node.
      { module: { exports: {} }, Buffer },
      { filename: file },
    );
    encoderClass = typeof found === 'function' ? (found as EncoderClass) : null;
  } catch {
    encoderClass = null;
  }
  return encoderClass;
}

const encoders = new Map<number, Encoder>();

export function encodeJpeg(image: RgbaImage, quality = 70, reuse = true): Buffer {
  const pixels = {
    width: image.width,
    height: image.height,
    data: Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength),
  };
  const Encoder = reuse ? reusableEncoderClass() : null;
  if (!Encoder) return jpeg.encode(pixels, quality).data;
  let encoder = encoders.get(quality);
  if (!encoder) {
    encoder = new Encoder(quality);
    encoders.set(quality, encoder);
  }
  return encoder.encode(pixels, quality);
}

/** For tests and checks: decode JPEG bytes into RGBA pixels (throws on a broken JPEG). */
export function decodeJpeg(bytes: Buffer): RgbaImage {
  const decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
  return { width: decoded.width, height: decoded.height, data: decoded.data };
}
