/**
 * Media profiles (ONVIF Media Service, ver10): a camera has a main and a sub stream of its
 * one video source; an NVR has the same pair for each of its channels, each pair bound to
 * that channel's VideoSourceConfiguration, which is how clients count NVR channels.
 */
import type { DeviceKind, Resolution } from './identity.js';

export interface VideoEncoder {
  token: string;
  name: string;
  encoding: 'H264';
  resolution: Resolution;
  quality: number;
  frameRate: number;
  bitrateKbps: number;
  govLength: number;
  h264Profile: 'Main' | 'High';
}

export interface MediaProfile {
  token: string;
  name: string;
  /** 1-based video input. */
  channel: number;
  videoSource: { token: string; configToken: string; bounds: Resolution };
  encoder: VideoEncoder;
}

const SUB_RESOLUTION: Resolution = { width: 704, height: 576 };

export function mediaProfiles(
  kind: DeviceKind,
  channels: number,
  mainResolution: Resolution,
): MediaProfile[] {
  const profiles: MediaProfile[] = [];
  for (let channel = 1; channel <= channels; channel++) {
    // A camera's tokens are the usual "main"/"sub"; an NVR's carry the channel.
    const prefix = kind === 'camera' ? '' : `ch${String(channel).padStart(2, '0')}_`;
    const videoSource = {
      token: `vs${channel}`,
      configToken: `vsc${channel}`,
      bounds: mainResolution,
    };
    profiles.push({
      token: `${prefix}main`,
      name: `${prefix}mainStream`,
      channel,
      videoSource,
      encoder: {
        token: `${prefix}venc_main`,
        name: 'Main stream encoder',
        encoding: 'H264',
        resolution: mainResolution,
        quality: 5,
        frameRate: 25,
        bitrateKbps: mainResolution.width >= 2560 ? 6144 : 4096,
        govLength: 50,
        h264Profile: 'High',
      },
    });
    profiles.push({
      token: `${prefix}sub`,
      name: `${prefix}subStream`,
      channel,
      videoSource,
      encoder: {
        token: `${prefix}venc_sub`,
        name: 'Sub stream encoder',
        encoding: 'H264',
        resolution: SUB_RESOLUTION,
        quality: 3,
        frameRate: 15,
        bitrateKbps: 512,
        govLength: 30,
        h264Profile: 'Main',
      },
    });
  }
  return profiles;
}
