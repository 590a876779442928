/** The only importer of jpeg-js: RGBA pixels in, baseline JPEG bytes out. */
import jpeg from 'jpeg-js';

export interface RgbaImage {
  width: number;
  height: number;
  /** width * height * 4 bytes, row by row. */
  data: Uint8Array;
}

export function encodeJpeg(image: RgbaImage, quality = 70): Buffer {
  return jpeg.encode(
    { width: image.width, height: image.height, data: Buffer.from(image.data.buffer) },
    quality,
  ).data;
}

/** For tests and checks: decode JPEG bytes into RGBA pixels (throws on a broken JPEG). */
export function decodeJpeg(bytes: Buffer): RgbaImage {
  const decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
  return { width: decoded.width, height: decoded.height, data: decoded.data };
}
