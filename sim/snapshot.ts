/**
 * The pictures a device's snapshot URI serves (ONVIF Media GetSnapshotUri: an HTTP GET
 * returning a JPEG). Live and blurred pictures are drawn at most once per second per
 * channel, each with a new frame of sensor noise (a live picture is never the same twice,
 * even of a static scene); black and covered pictures are drawn once per process; a frozen
 * channel keeps the picture of the moment it froze, byte for byte.
 */
import type { PictureMode } from './faults.js';
import { encodeJpeg, type RgbaImage } from './jpeg.js';
import {
  addSensorNoise,
  blurredPicture,
  flatPicture,
  testPicture,
  type SceneKind,
} from './picture.js';

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
  private readonly sceneKind: SceneKind;
  private readonly live = new Map<string, { second: number; bytes: Buffer }>();
  private readonly frozen = new Map<number, Buffer>();

  constructor(label: string, tint: number, scene: SceneKind = 'clock') {
    this.label = label;
    this.tint = tint;
    this.sceneKind = scene;
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
        const kept = this.frozen.get(channel) ?? this.frame(channel, 'live', deviceNow);
        this.frozen.set(channel, kept);
        return kept;
      }
      case 'blurred':
      case 'live':
        return this.frame(channel, mode, deviceNow);
    }
  }

  /** Called when a fault starts, so frozen means "the picture of that moment". */
  freezeNow(channel: number, deviceNow: number): void {
    if (!this.frozen.has(channel)) this.frozen.set(channel, this.frame(channel, 'live', deviceNow));
  }

  /** This second's frame of the channel, through a sharp or a blurred lens. */
  private frame(channel: number, lens: 'live' | 'blurred', deviceNow: number): Buffer {
    const second = Math.floor(deviceNow / 1000);
    const key = `${lens} ${channel}`;
    const cached = this.live.get(key);
    if (cached && cached.second === second) return cached.bytes;
    const scene = this.scene(channel, deviceNow);
    const seen = lens === 'blurred' ? blurredPicture(scene) : scene;
    // The sensor sits behind the lens: its noise is sharp however blurred the scene.
    const bytes = encodeJpeg(addSensorNoise(seen, noiseSeed(this.tint, channel, second)));
    this.live.set(key, { second, bytes });
    return bytes;
  }

  /** What the channel's camera sees now, before the lens or the encoder change it. */
  private scene(channel: number, deviceNow: number): RgbaImage {
    return testPicture({
      label: `${this.label} ch ${channel}`,
      time: deviceNow,
      tint: this.tint,
      scene: this.sceneKind,
    });
  }
}

/** A frame's noise seed: another for each device (tint), channel and second. */
function noiseSeed(tint: number, channel: number, second: number): number {
  return Math.imul(second ^ Math.imul(channel + 1, 0x85ebca6b) ^ (tint << 24), 0x9e3779b1) >>> 0;
}
