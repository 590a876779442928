/**
 * Does each channel show a picture? trt:GetSnapshotUri once per channel (kept), then an
 * HTTP GET of it every poll; the JPEG is read (agent/picture.ts) and judged: black (mean
 * luminance below 16), covered (almost no contrast: a cap, paint, fog), frozen (the same
 * picture to the pixel for `checks.frozenPolls` polls in a row: a live camera's sensor
 * noise changes every frame, even of a scene where nothing moves), blurred (sharpness
 * below `checks.blurFraction` of the camera's usual for `checks.blurPolls` polls, once
 * `checks.blurBaselinePolls` pictures taught it what is usual). Each is a degraded reason
 * for that channel, as is a snapshot that cannot be fetched or decoded (snapshot-failed).
 *
 * The usual sharpness lives in the agent's memory only: after a restart each camera is
 * learned again (about 5 minutes at the defaults), and a camera already out of focus then
 * is learned as it is and not reported until it is sharp again and then loses it. It is
 * learned again, too, when the snapshot's size or JPEG quantization changes (a sharpness
 * is comparable only within one: jpeg-luma.ts `quality`), and a lasting loss of detail is
 * learned within hours (agent/picture.ts SharpnessBaseline).
 */
import type { Reason, ReasonCode } from '../../shared/messages/device-state.js';
import { TruncatedJpeg } from '../jpeg-luma.js';
import {
  analyse,
  blurReference,
  judgeSharpness,
  newBaseline,
  samePicture,
  verdict,
  type PictureStats,
} from '../picture.js';
import type { VideoChannel } from '../onvif/types.js';
import { channelsInTurn } from './turns.js';
import { degradeOnFailure, type Check, type CheckContext } from './types.js';

/** Two significant figures are what a person compares; more is noise. */
const round = (value: number): number => Number(value.toPrecision(2));

export const picture: Check = {
  name: 'picture',
  liveView: true,
  enabled: (settings) => settings.picture,
  async run({ client, signal, memory, settings, now }) {
    const degraded: Reason[] = [];
    let ok = 0;
    let firstLuma: number | undefined;
    let firstSharpness: number | undefined;
    const inTurn = channelsInTurn(
      memory.channels,
      (c) => {
        const verdict = memory.pictureVerdicts.get(c.sourceToken);
        return verdict && verdict.length === 0;
      },
      memory.pictureTurn,
      settings.channelsPerPoll,
    );
    for (const [index, channel] of memory.channels.entries()) {
      const token = channel.sourceToken;
      if (!inTurn.has(channel)) {
        // Its last picture was good (channelsInTurn): so it stands until its turn.
        ok += 1;
        continue;
      }
      const seen = await pictureOf(channel, { client, signal, memory, settings, now });
      memory.pictureVerdicts.set(token, seen.reasons);
      degraded.push(...seen.reasons);
      if (seen.reasons.length === 0) ok += 1;
      // The first channel's readings, when it was pictured in this poll: a metric is a
      // reading of its moment, never a repeated one.
      if (index === 0 && seen.stats) {
        firstLuma = Math.round(seen.stats.luma * 10) / 10;
        if (seen.plain) firstSharpness = round(seen.stats.sharpness);
      }
    }
    return {
      values: {
        picturesOk: ok,
        ...(firstLuma !== undefined ? { pictureLuma: firstLuma } : {}),
        ...(firstSharpness !== undefined ? { pictureSharpness: firstSharpness } : {}),
      },
      degraded,
    };
  },
};

/**
 * One channel's picture: its snapshot fetched, read and judged against its last pictures;
 * the reasons (none: a good picture), and the readings when it could be read.
 */
async function pictureOf(
  channel: VideoChannel,
  {
    client,
    signal,
    memory,
    settings,
    now,
  }: Pick<CheckContext, 'client' | 'signal' | 'memory' | 'settings' | 'now'>,
): Promise<{ reasons: Reason[]; stats?: PictureStats; plain?: boolean }> {
  const token = channel.sourceToken;
  let uri = memory.snapshotUris.get(channel.profileToken);
  if (uri === undefined) {
    const asked = await degradeOnFailure(
      'snapshot-failed',
      () => client.snapshotUri(channel.profileToken, signal),
      token,
    );
    if ('reason' in asked) return { reasons: [asked.reason] };
    uri = asked.value;
    memory.snapshotUris.set(channel.profileToken, uri);
  }
  const snapshotUri = uri;
  const fetched = await degradeOnFailure(
    'snapshot-failed',
    () => client.snapshot(snapshotUri, signal),
    token,
  );
  if ('reason' in fetched) return { reasons: [fetched.reason] };
  let stats: PictureStats;
  try {
    stats = analyse(fetched.value);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return {
      reasons: [
        {
          code: 'snapshot-failed',
          message: (error instanceof TruncatedJpeg
            ? `the snapshot of ${channel.name} is cut short (${why}), so nothing was measured from it: the camera served a frame it was still encoding or the answer was cut on the way; if it repeats, check the network path to the camera and its snapshot settings`
            : `the snapshot of ${channel.name} is not a JPEG: ${why}`
          ).slice(0, 1000),
          channel: token,
        },
      ],
    };
  }
  const seen = verdict(stats);
  const before = memory.pictures.get(token);
  const same = before !== undefined && samePicture(before.stats, stats);
  const unchanged = same ? before.unchanged + 1 : 0;
  // A sharpness is comparable only at one size and quantization (jpeg-luma.ts
  // `quality`): a camera whose snapshot quality or resolution changed learns anew.
  let baseline = before?.baseline?.quality === stats.quality ? before.baseline : null;
  let blurred = false;
  if (seen !== 'ok') {
    // Black and covered have reasons of their own; they break a run of blurred polls.
    if (baseline) baseline.below = 0;
  } else if (!same) {
    // A frozen picture teaches nothing and is judged as frozen, not again as blurred.
    baseline ??= newBaseline(stats.quality);
    blurred = judgeSharpness(baseline, stats.sharpness, settings, now(), stats.contrast);
  }
  memory.pictures.set(token, { stats, unchanged, baseline });
  // One reason at most, in this order (agent/README.md, Pictures); none: a good picture.
  const judged = (code: ReasonCode, message: string) => ({
    stats,
    plain: seen === 'ok',
    reasons: [{ code, message, channel: token }],
  });
  if (seen === 'black') {
    return judged(
      'picture-black',
      `${channel.name} shows a black picture (mean luminance ${stats.luma.toFixed(0)})`,
    );
  }
  if (seen === 'covered') {
    return judged(
      'picture-covered',
      `${channel.name} shows a nearly uniform picture (contrast ${stats.contrast.toFixed(1)}): covered or out of focus`,
    );
  }
  if (unchanged + 1 >= settings.frozenPolls) {
    return judged(
      'picture-frozen',
      `${channel.name} has shown the same picture, byte for byte, in ${unchanged + 1} pictures in a row: the camera's encoder or the recorder's decoder is stuck, or the snapshot is not refreshed (a camera serving a cached snapshot; an NVR decoding a static, noise-reduced stream repeats frames exactly); compare with the live view before going on site`,
    );
  }
  if (blurred && baseline) {
    const usual = blurReference(baseline);
    const share = Math.round((100 * stats.sharpness) / usual);
    return judged(
      'picture-blurred',
      `${channel.name} shows a blurred picture: sharpness ${round(stats.sharpness)}, ${share} % of its usual ${round(usual)}, for ${baseline.below} pictures (lens out of focus, knocked, dirty or misted)`,
    );
  }
  return { stats, plain: seen === 'ok', reasons: [] };
}
