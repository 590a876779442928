/**
 * Cameras behind an NVR (issue 14 item 2): the state of a camera from what its NVR saw of
 * it. Many small sites put their cameras on the NVR's own PoE ports, a network of the NVR's
 * own (Hikvision 192.168.254.0/24, Dahua 10.1.1.0/24) that the gateway cannot reach. Such a
 * camera is configured with `behind: {nvr, channel}` and no `xaddr`; it is never polled, and
 * after each poll of its NVR this module decides its state from:
 *
 * - the NVR's vendor API (agent/drivers/: Hikvision ISAPI InputProxy channel status, Dahua
 *   getCameraState): each IP channel online or not, numbered 1, 2 ... as the NVR shows them
 *   (both drivers give 1-based ids). A channel offline is the NVR telling that it no longer
 *   reaches the camera: the camera is `down`, reason `unreachable`, `witness` the NVR.
 * - the NVR's own reasons about its channels (agent/checks/: `video-loss` and `tampering`
 *   per video source token from its events, `stream-down`, `snapshot-failed` and the
 *   picture codes per video source token from its stream and picture checks,
 *   `recording-stopped` per recording token). Which token is channel N: `channelOfReason`.
 *
 * A channel with a camera configured behind it belongs to that camera (`nvrOwnReasons`):
 * after the NVR's poll and before its state is recorded, every reason of the NVR about that
 * channel leaves the NVR. The camera answering (its channel online), each becomes the
 * camera's degraded reason of the same code with the NVR as witness; the camera down
 * because its channel is offline, its one `unreachable` stands and the channel's
 * consequences (black picture, video lost, recording stopped) are said on neither device:
 * one cause, one ticket, one dispatch. A reason whose channel is not known with certainty
 * stays the NVR's (a signal is never lost). The NVR's metrics stay as measured
 * (`recordingsStopped` counts the recording that did stop: the recording figures of the
 * inspection report are the NVR's).
 *
 * What is never made up: the NVR down (its poll failed twice, its own DeviceState), a
 * channel the NVR does not list, or an NVR that gives no state of the channel (no vendor
 * channel list, and no ONVIF video source or recording for it, or its ONVIF side not read
 * because it refuses our credentials or certificate) make the camera `unknown`.
 * Unknown carries no reason: a reason is a fault the broker opens a ticket for (the
 * degradations rule takes every code), and not seeing a camera is none; the NVR's own
 * ticket (device-down) covers it. Why it is unknown is said in the agent's log, once per
 * change (agent.ts), and in `vigil agent check` of the NVR.
 *
 * Confirmation: an NVR marks a channel offline as soon as its camera drops, and a camera
 * that reboots (a weekly auto maintenance, a firmware push) or boots on the PoE port of an
 * NVR that has just restarted shows offline for a minute or two. So the camera goes through
 * the agent's DeviceState like a polled device, but confirmed by time, not by a second
 * look: a channel offline in one poll of the NVR is a first failure, and it is `down` once
 * the NVR's polls showed it offline `polling.behindOfflineS` (120 s) without a break,
 * dated from the first poll that saw it (`since`, as for a polled device). A second look
 * 1 s later, as for a polled device, would read the NVR's same list (review-b: every PoE
 * camera of a rebooted NVR was an emergency). agent.ts keeps the clock (`offlineSince`).
 *
 * A camera reachable both directly (`xaddr`) and through the NVR (`behind`) is one device:
 * its own poll decides its status, and `witnessed` adds what the NVR saw only where the
 * camera's own poll did not say the same code (the NVR lost the camera's video while the
 * gateway still reaches it: degraded `video-loss`, witness the NVR). The NVR's reasons
 * about its channel leave the NVR all the same.
 *
 * Pure logic: agent.ts feeds it the NVR's poll, its DeviceState and what its checks keep.
 */
import type { Reason, ReasonCode, RecordingRef } from '../shared/messages/device-state.js';
import type { BehindRef } from './config.js';
import type { DeviceStatus } from './device-state.js';
import type { PollResult } from './poll.js';

export type { BehindRef } from './config.js';

/**
 * One IP channel as an NVR's vendor API lists it (agent/drivers/types.ts NvrChannel: the
 * fields read here). `id` is the channel number as the NVR shows it, 1-based.
 */
export interface ChannelState {
  id: string;
  online: boolean | null;
  /** The NVR's own word for it (ISAPI chanDetectResult, Dahua connectionState). */
  detail?: string;
  /** The camera's address on the NVR's network. */
  address?: string;
  name?: string;
}

/** What one poll of an NVR saw, as the cameras behind it read it. */
export interface NvrSight {
  nvr: { id: string; name: string };
  /** The NVR's status after this poll (its own DeviceState: down only when confirmed). */
  status: DeviceStatus;
  /** The poll answered (an NVR's first failure is not yet down: nothing is concluded). */
  answered: boolean;
  /** Its vendor API's channel list of this poll; null: not listed in this poll. */
  channels: ChannelState[] | null;
  /** Its degraded reasons of this poll, all of them (those of its channels among them). */
  reasons: Reason[];
  /**
   * Its ONVIF events or recordings were read in this poll (the events or the recording
   * check reported). False for an NVR that refuses our credentials or certificate: its
   * reasons then say nothing of its channels, and no state is read into their silence.
   */
  onvif: boolean;
  /** Its video source tokens in its own order (the media check's channels). */
  sources: string[];
  /**
   * The media profile of each video source (the media check's channels), so that a reason
   * naming a profile (`ch02_main`, Hikvision `Profile_201`) is read as its source's channel.
   */
  profiles?: readonly { token: string; source: string }[];
  /** Its recordings as last listed (token order). */
  recordings: RecordingRef[];
}

/**
 * What the NVR's poll means for one camera behind it: `unseen` (status unknown, `why` for
 * the log), `wait` (nothing concluded this time: its state stays), or `seen` with the poll
 * result its DeviceState records.
 */
export type Verdict =
  { kind: 'unseen'; why: string } | { kind: 'wait' } | { kind: 'seen'; result: PollResult };

// ---- which ONVIF token is channel N --------------------------------------------------------

/** The last run of digits in a token or name: vs3, VideoSource_3, REC_CH03, "NVR channel 3". */
export function lastNumber(text: string): number | null {
  const match = /(\d+)\D*$/.exec(text);
  return match ? Number(match[1]) : null;
}

/**
 * The NVR channel (1-based) that an ONVIF token names, among `known`: the NVR's tokens of
 * the same kind (video sources in the order its profiles list them, recordings in token
 * order). ONVIF gives channels no number, and firmware names them in several ways:
 *
 * 1. Each known token ends in a number of its own (`vs1`, `VideoSource_1`, `REC_CH01`):
 *    numbered from 0 (`VideoSource000`), the number plus one; a number under 100 is the
 *    channel itself, also when the lowest is above 1 (channel 1 free: `VideoSource_2`,
 *    `VideoSource_3` are channels 2 and 3, not 1 and 2; review-b #4); numbered as
 *    Hikvision numbers streams, channel x 100 + stream (`101`, `301`: channels 1 and 3),
 *    the hundreds; any other numbering, the rank of its number among them.
 * 2. Otherwise (no numbers, or the same number twice): its position among `known`, 1-based.
 * 3. A token not among `known` (the NVR's lists not read yet): its own number when it is 1
 *    or more, else null. Null means "not mapped": the reason stays the NVR's own.
 */
export function channelOfToken(token: string, known: readonly string[]): number | null {
  const at = known.indexOf(token);
  if (at < 0) {
    const own = lastNumber(token);
    return own !== null && own >= 1 ? own : null;
  }
  const numbers = known.map(lastNumber);
  const distinct = numbers.every((n) => n !== null) && new Set(numbers).size === numbers.length;
  if (!distinct) return at + 1;
  const own = numbers[at] as number;
  const all = numbers as number[];
  const lowest = Math.min(...all);
  if (lowest === 0) return own + 1;
  if (Math.max(...all) < 100) return own;
  // Channel x 100 + stream 1 to 9 (Hikvision: 101 main, 102 sub, 201 ...).
  if (all.every((n) => n >= 100 && n % 100 >= 1 && n % 100 <= 9)) return Math.floor(own / 100);
  return [...all].sort((a, b) => a - b).indexOf(own) + 1;
}

/**
 * The channel of a recording: by its token (`REC_CH03`) when the recordings' tokens carry
 * numbers of their own, else by the camera it holds (RecordingInformation Source Name,
 * "NVR channel 3", or SourceId), else its position in token order.
 */
export function channelOfRecording(
  token: string,
  recordings: readonly RecordingRef[],
): number | null {
  const tokens = recordings.map((r) => r.token);
  if (!tokens.includes(token)) return channelOfToken(token, []);
  const numbered = (list: readonly string[]): boolean => {
    const numbers = list.map(lastNumber);
    return numbers.every((n) => n !== null) && new Set(numbers).size === numbers.length;
  };
  if (numbered(tokens)) return channelOfToken(token, tokens);
  const sources = recordings.map((r) => r.source ?? '');
  const own = sources[tokens.indexOf(token)] ?? '';
  if (own !== '' && numbered(sources)) return channelOfToken(own, sources);
  return channelOfToken(token, tokens);
}

/**
 * The reasons about one video channel of an NVR (agent/checks/): the token of the video
 * source (or of the recording) they concern is their `channel`. Any other code, or one
 * without a channel, is about the NVR itself (its disks, its clock, our credentials).
 */
export const CHANNEL_CODES: ReadonlySet<ReasonCode> = new Set<ReasonCode>([
  'stream-down',
  'snapshot-failed',
  'picture-black',
  'picture-covered',
  'picture-frozen',
  'picture-blurred',
  'video-loss',
  'tampering',
  'recording-stopped',
]);

/**
 * The channel of a token the NVR's lists do not hold: its own number, 1 or more, when below
 * 100. From 100 on it may be Hikvision's stream numbering, channel × 100 + stream (101 the
 * main stream of channel 1, 102 its sub stream, 201 ...: ISAPI /Streaming/channels/<id>,
 * which the firmware reuses in its ONVIF profile tokens), or a channel of a 128-channel
 * recorder: read as a stream only where the NVR's channel list has that channel and no
 * channel of the whole number; otherwise it is not known (null: the reason stays the NVR's).
 */
function channelOfUnlisted(token: string, channels: readonly ChannelState[] | null): number | null {
  const own = lastNumber(token);
  if (own === null || own < 1) return null;
  if (own < 100) return own;
  const channel = Math.floor(own / 100);
  const stream = own % 100;
  const has = (n: number): boolean => channels?.some((c) => Number(c.id) === n) ?? false;
  return stream >= 1 && stream <= 9 && has(channel) && !has(own) ? channel : null;
}

/**
 * The NVR channel (1-based) a reason of the NVR is about, or null: not a reason about a
 * channel (see CHANNEL_CODES), or a token that cannot be read with certainty. A recording
 * token by `channelOfRecording`; a video source token by `channelOfToken` among the NVR's
 * sources; a media profile token (`ch02_main`, `Profile_201`) by the source it belongs to;
 * a token in none of the NVR's lists by its own number (`channelOfUnlisted`).
 */
export function channelOfReason(
  reason: Reason,
  sight: Pick<NvrSight, 'sources' | 'recordings' | 'profiles' | 'channels'>,
): number | null {
  const token = reason.channel;
  if (token === undefined || !CHANNEL_CODES.has(reason.code)) return null;
  if (reason.code === 'recording-stopped') {
    return sight.recordings.some((r) => r.token === token)
      ? channelOfRecording(token, sight.recordings)
      : channelOfUnlisted(token, sight.channels);
  }
  if (sight.sources.includes(token)) return channelOfToken(token, sight.sources);
  const profile = sight.profiles?.find((p) => p.token === token);
  if (profile && sight.sources.includes(profile.source)) {
    return channelOfToken(profile.source, sight.sources);
  }
  return channelOfUnlisted(token, sight.channels);
}

// ---- the verdict -----------------------------------------------------------------------

const MAX_MESSAGE = 1000;

function nvrName(sight: NvrSight): string {
  return `NVR "${sight.nvr.name}" (${sight.nvr.id})`;
}

/** What the NVR's reason says of channel N, as the camera's message opens. */
function leadOf(code: ReasonCode, nvr: string, channel: number): string {
  switch (code) {
    case 'video-loss':
      return `${nvr} has lost the video of channel ${channel}`;
    case 'recording-stopped':
      return `${nvr} does not record channel ${channel}`;
    case 'stream-down':
      return `${nvr} does not stream channel ${channel}`;
    case 'snapshot-failed':
      return `${nvr} gives no snapshot of channel ${channel}`;
    default:
      return `${nvr} sees on channel ${channel}`;
  }
}

/**
 * The NVR's reasons about channel N, as the camera's, with the NVR as witness: one per code
 * (the NVR may say the same of a channel under two tokens, a profile and its source).
 */
export function channelReasons(sight: NvrSight, channel: number): Reason[] {
  const out: Reason[] = [];
  for (const reason of sight.reasons) {
    if (channelOfReason(reason, sight) !== channel) continue;
    if (out.some((r) => r.code === reason.code)) continue;
    out.push({
      code: reason.code,
      message: `${leadOf(reason.code, nvrName(sight), channel)}: ${reason.message}`.slice(
        0,
        MAX_MESSAGE,
      ),
      witness: sight.nvr.id,
    });
  }
  return out;
}

/** Does the NVR's ONVIF side list channel N (a video source or a recording of it)? */
function onvifKnows(sight: NvrSight, channel: number): boolean {
  return (
    sight.sources.some((token) => channelOfToken(token, sight.sources) === channel) ||
    sight.recordings.some((rec) => channelOfRecording(rec.token, sight.recordings) === channel)
  );
}

function offlineReason(sight: NvrSight, channel: number, state: ChannelState): Reason {
  const detail = state.detail ? ` (${state.detail})` : '';
  const address = state.address ? ` at ${state.address}` : '';
  return {
    code: 'unreachable',
    message: (
      `${nvrName(sight)} reports channel ${channel} offline${detail}: it no longer reaches ` +
      `the camera${address} on its network. Check the camera's cable, the NVR's PoE port ` +
      `and the camera's power; the gateway cannot reach this camera itself`
    ).slice(0, MAX_MESSAGE),
    witness: sight.nvr.id,
  };
}

/** The channel of the vendor list, or null. `id` is the number as the NVR shows it. */
function listed(sight: NvrSight, channel: number): ChannelState | null {
  return sight.channels?.find((c) => Number(c.id) === channel) ?? null;
}

/**
 * The state of a camera that is only behind the NVR (see the file's comment). `listedLately`:
 * the NVR's vendor API listed its channels in a recent poll; then a poll without the list
 * (an ISAPI request that timed out) concludes nothing rather than falling back to ONVIF,
 * which cannot say offline: the camera would flip between down and degraded.
 */
export function judge(behind: BehindRef, sight: NvrSight, listedLately: boolean): Verdict {
  const { channel } = behind;
  const nvr = nvrName(sight);
  if (sight.status === 'down') return { kind: 'unseen', why: `${nvr} is down` };
  if (!sight.answered) return { kind: 'wait' };
  const state = listed(sight, channel);
  if (sight.channels && !state) {
    const ids = sight.channels.map((c) => c.id).join(', ') || 'none';
    return {
      kind: 'unseen',
      why:
        `${nvr} has no channel ${channel} (its IP channels: ${ids}); ` +
        `set behind.channel to the channel the camera is on`,
    };
  }
  if (state?.online === false) {
    return {
      kind: 'seen',
      result: { ok: false, values: { up: false }, failure: offlineReason(sight, channel, state) },
    };
  }
  const ok = (): Verdict => ({
    kind: 'seen',
    result: { ok: true, values: { up: true }, degraded: channelReasons(sight, channel) },
  });
  if (state?.online === true) return ok();
  if (!sight.channels && listedLately) return { kind: 'wait' };
  // The NVR gives no online state (an ONVIF-only NVR, a vendor API that refuses us): its
  // ONVIF side alone. It cannot say offline: a gone camera shows as video loss and its
  // recording stopping, never as down.
  if (!sight.onvif) {
    return {
      kind: 'unseen',
      why:
        `${nvr} answers but tells nothing of its channels in this poll (no channel list from ` +
        `its vendor API, its ONVIF events and recordings not read: credentials or ` +
        `certificate refused?)`,
    };
  }
  if (onvifKnows(sight, channel)) return ok();
  return {
    kind: 'unseen',
    why:
      `${nvr} gives no state of channel ${channel}: no channel list from its vendor API and ` +
      `no ONVIF video source or recording of that channel`,
  };
}

/**
 * A camera reachable directly and through the NVR: its own poll's result, with what the NVR
 * saw of it added where the camera's own poll did not say it. Only to a poll that answered
 * (a camera down is down by its own poll), and only from an NVR that answered.
 */
export function witnessed(own: PollResult, behind: BehindRef, sight: NvrSight | null): PollResult {
  if (!own.ok || !sight || !sight.answered || sight.status === 'down') return own;
  const { channel } = behind;
  const seen: Reason[] = [];
  const state = listed(sight, channel);
  if (state?.online === false) {
    const detail = state.detail ? ` (${state.detail})` : '';
    seen.push({
      code: 'video-loss',
      message: (
        `${nvrName(sight)} reports channel ${channel} offline${detail} while the gateway ` +
        `reaches the camera: the NVR gets no video from it and records nothing. Check the ` +
        `link between the NVR and the camera, and the camera's account on the NVR`
      ).slice(0, MAX_MESSAGE),
      witness: sight.nvr.id,
    });
  }
  for (const reason of channelReasons(sight, channel)) {
    if (!seen.some((r) => r.code === reason.code)) seen.push(reason);
  }
  const added = seen.filter((r) => !own.degraded.some((mine) => mine.code === r.code));
  if (added.length === 0) return own;
  return { ...own, degraded: [...own.degraded, ...added] };
}

/** A camera configured behind an NVR; `direct`: it has an `xaddr` of its own too. */
export interface BehindClaim {
  behind: BehindRef;
  direct: boolean;
}

/**
 * The reasons the NVR keeps of its poll once the channels with a camera behind them took
 * theirs (see the file's comment): applied before the NVR's state is recorded. A reason
 * about such a channel leaves the NVR
 *
 * - for a camera only behind it that this poll sees (`judge`: `seen`): online, it becomes
 *   the camera's (`channelReasons`); offline, the camera's `unreachable` says it all;
 * - for a camera only behind it whose state this poll leaves as it was (`wait`: the
 *   vendor list missing from one poll): held back, the next poll that lists the channels
 *   gives it to the camera or drops it, rather than an NVR ticket opened for one poll;
 * - for a camera also reached directly: its own poll decides, `witnessed` adds it there.
 *
 * It stays the NVR's when its channel is not known with certainty, when no camera is
 * configured on that channel, or when the camera is not seen (`unseen`: the NVR lists no
 * such channel, or gives no state of it): a signal is never lost.
 */
export function nvrOwnReasons(
  sight: NvrSight,
  claims: readonly BehindClaim[],
  listedLately: boolean,
): Reason[] {
  // Reasons come only from a poll that answered, and such a poll makes the NVR up or
  // degraded when recorded (device-state.ts): not down, whatever it was before.
  if (!sight.answered) return sight.reasons;
  const answering: NvrSight = sight.status === 'down' ? { ...sight, status: 'up' } : sight;
  const taken = new Map<number, boolean>();
  const takes = (channel: number): boolean => {
    const known = taken.get(channel);
    if (known !== undefined) return known;
    const claim = claims.find((c) => c.behind.channel === channel);
    const verdict = claim && !claim.direct ? judge(claim.behind, answering, listedLately) : null;
    const yes = claim !== undefined && (claim.direct || verdict?.kind !== 'unseen');
    taken.set(channel, yes);
    return yes;
  };
  return sight.reasons.filter((reason) => {
    const channel = channelOfReason(reason, sight);
    return channel === null || !takes(channel);
  });
}

/**
 * `vigil agent check` of an NVR: its IP channels, one line each, as an installer needs them
 * to write the `behind:` entries of the cameras on its PoE ports (the camera's address on
 * the NVR's network tells which camera is on which channel). Empty without a channel list.
 */
export function channelLines(channels: readonly ChannelState[]): string[] {
  if (channels.length === 0) return [];
  return [
    "IP channels (a camera on one is configured with behind: { nvr: <this NVR's id>, channel: N }):",
    ...channels.map((c) => {
      const name = c.name ? ` "${c.name}"` : '';
      const address = c.address ? ` at ${c.address}` : '';
      const state = c.online === null ? 'state not given' : c.online ? 'online' : 'offline';
      const detail = c.detail ? ` (${c.detail})` : '';
      return `  channel ${c.id}${name}${address}: ${state}${detail}`;
    }),
  ];
}

/**
 * The address a camera only behind an NVR is published with (DeviceState.xaddr, the birth's
 * device list, both URIs): its NVR's service address with the channel as fragment, the one
 * way the gateway sees it. Never sent to anything.
 */
export function behindAddress(nvrXaddr: string, channel: number): string {
  const url = new URL(nvrXaddr);
  url.hash = `channel=${channel}`;
  return url.toString();
}
