/**
 * Which video channels does the device offer? trt:GetProfiles (ONVIF Media Service,
 * ver10), parsed by us and grouped by video source: one channel per source, however many
 * profiles (main and sub streams) it has. Encoder configurations without Resolution (real
 * NVRs) are fine. No channel at all on a device that should stream is a protocol error.
 */
import { attempt, type Check } from './types.js';

export const media: Check = {
  name: 'media',
  run: ({ client, signal, memory }) =>
    attempt(
      () => client.channels(signal),
      (channels) => {
        const changed =
          channels.length !== memory.channels.length ||
          channels.some((c, i) => c.profileToken !== memory.channels[i]?.profileToken);
        if (changed) {
          // New profiles (a replaced or reconfigured device): ask for the URIs again.
          memory.streamUris.clear();
          memory.snapshotUris.clear();
          memory.pictures.clear();
          memory.pictureVerdicts.clear();
          memory.pictureTurn = { at: 0 };
          memory.streamsGood.clear();
          memory.streamTurn = { at: 0 };
        }
        memory.channels = channels;
        return {
          values: {
            profiles: channels.reduce((sum, c) => sum + c.profiles, 0),
            channels: channels.length,
          },
        };
      },
    ),
};
