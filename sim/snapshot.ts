/**
 * The pictures a device's snapshot URI serves (ONVIF Media GetSnapshotUri: an HTTP GET
 * returning a JPEG). Live pictures are drawn at most once per second per channel; black
 * and covered pictures are drawn once per process; a frozen channel keeps the picture of
 * the moment it froze.
 */
import type { PictureMode } from './faults.js';
import { encodeJpeg, type RgbaImage } from './jpeg.js';
import { blurredPicture, flatPicture, testPicture } from './picture.js';

let black: Buffer | null = null;
let covered: Buffer | null = null;

function blackJpeg(): Buffer {
  black ??= encodeJpeg(flatPicture(0, 0));
  return black;
}

function coveredJpeg(): Buffer {
  // A lens under a cover or paint: mid grey, almost no detail.
  covered ??= encodeJpeg(flatPicture(110, 3));
  return covered;
}

export class SnapshotSource {
  private readonly label: string;
  private readonly tint: number;
  private readonly live = new Map<number, { second: number; bytes: Buffer }>();
  private readonly frozen = new Map<number, Buffer>();

  constructor(label: string, tint: number) {
    this.label = label;
    this.tint = tint;
  }

  /** The JPEG a client gets for `channel` now; `deviceNow` drives the drawn clock. */
  picture(channel: number, mode: PictureMode, deviceNow: number): Buffer {
    if (mode !== 'frozen') this.frozen.delete(channel);
    switch (mode) {
      case 'black':
        return blackJpeg();
      case 'covered':
        return coveredJpeg();
      case 'frozen': {
        const kept = this.frozen.get(channel) ?? this.livePicture(channel, deviceNow);
        this.frozen.set(channel, kept);
        return kept;
      }
      case 'blurred':
        return encodeJpeg(blurredPicture(this.scene(channel, deviceNow)));
      case 'live':
        return this.livePicture(channel, deviceNow);
    }
  }

  /** Called when a fault starts, so frozen means "the picture of that moment". */
  freezeNow(channel: number, deviceNow: number): void {
    if (!this.frozen.has(channel)) this.frozen.set(channel, this.livePicture(channel, deviceNow));
  }

  private livePicture(channel: number, deviceNow: number): Buffer {
    const second = Math.floor(deviceNow / 1000);
    const cached = this.live.get(channel);
    if (cached && cached.second === second) return cached.bytes;
    const bytes = encodeJpeg(this.scene(channel, deviceNow));
    this.live.set(channel, { second, bytes });
    return bytes;
  }

  /** What the channel's camera sees now, before the lens or the encoder change it. */
  private scene(channel: number, deviceNow: number): RgbaImage {
    return testPicture({ label: `${this.label} ch ${channel}`, time: deviceNow, tint: this.tint });
  }
}
