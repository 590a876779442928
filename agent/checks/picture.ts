/**
 * Does each channel show a picture? trt:GetSnapshotUri once per channel (kept), then an
 * HTTP GET of it every poll; the JPEG is decoded (agent/picture.ts) and judged: black
 * (mean luminance below 16), covered (almost no contrast: a cap, paint, fog), frozen (the
 * same picture for `checks.frozenPolls` polls in a row). Each is a degraded reason for
 * that channel, as is a snapshot that cannot be fetched or decoded (snapshot-failed).
 */
import type { Reason } from '../../shared/messages/device-state.js';
import { analyse, samePicture, verdict, type PictureStats } from '../picture.js';
import { degradeOnFailure, type Check } from './types.js';

export const picture: Check = {
  name: 'picture',
  liveView: true,
  enabled: (settings) => settings.picture,
  async run({ client, signal, memory, settings }) {
    const degraded: Reason[] = [];
    let ok = 0;
    let firstLuma: number | undefined;
    for (const channel of memory.channels) {
      const token = channel.sourceToken;
      let uri = memory.snapshotUris.get(channel.profileToken);
      if (uri === undefined) {
        const asked = await degradeOnFailure(
          'snapshot-failed',
          () => client.snapshotUri(channel.profileToken, signal),
          token,
        );
        if ('reason' in asked) {
          degraded.push(asked.reason);
          continue;
        }
        uri = asked.value;
        memory.snapshotUris.set(channel.profileToken, uri);
      }
      const fetched = await degradeOnFailure(
        'snapshot-failed',
        () => client.snapshot(uri, signal),
        token,
      );
      if ('reason' in fetched) {
        degraded.push(fetched.reason);
        continue;
      }
      let stats: PictureStats;
      try {
        stats = analyse(fetched.value);
      } catch (error) {
        degraded.push({
          code: 'snapshot-failed',
          message:
            `the snapshot of ${channel.name} is not a JPEG: ${error instanceof Error ? error.message : String(error)}`.slice(
              0,
              1000,
            ),
          channel: token,
        });
        continue;
      }
      firstLuma ??= Math.round(stats.luma * 10) / 10;
      const before = memory.pictures.get(token);
      const unchanged = before && samePicture(before.stats, stats) ? before.unchanged + 1 : 0;
      memory.pictures.set(token, { stats, unchanged });
      const seen = verdict(stats);
      if (seen === 'black') {
        degraded.push({
          code: 'picture-black',
          message: `${channel.name} shows a black picture (mean luminance ${stats.luma.toFixed(0)})`,
          channel: token,
        });
      } else if (seen === 'covered') {
        degraded.push({
          code: 'picture-covered',
          message: `${channel.name} shows a nearly uniform picture (contrast ${stats.contrast.toFixed(1)}): covered or out of focus`,
          channel: token,
        });
      } else if (unchanged + 1 >= settings.frozenPolls) {
        degraded.push({
          code: 'picture-frozen',
          message: `${channel.name} has shown the same picture for ${unchanged + 1} polls`,
          channel: token,
        });
      } else {
        ok += 1;
      }
    }
    return {
      values: { picturesOk: ok, ...(firstLuma !== undefined ? { pictureLuma: firstLuma } : {}) },
      degraded,
    };
  },
};
