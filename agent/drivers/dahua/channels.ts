/**
 * An NVR's remote (IP) channels and whether it reaches each camera:
 * /cgi-bin/LogicDeviceManager.cgi?action=getCameraState&uniqueChannels[0]=-1 every poll
 * (`states[N].channel`, the NVR's channel 0-based, and `connectionState`: Connected,
 * Connecting, Unconnect), and at most every SLOW_MS the channels' names (configManager
 * getConfig ChannelTitle) and the cameras bound to them with their addresses
 * (LogicDeviceManager getCameraAll); recorders only (as the storage check). The same calls
 * the recorder's own web page makes over RPC2 (`LogicDeviceManager.getCameraState` with
 * `uniqueChannels: [-1]`, `LogicDeviceManager.getCameraAll`); firmware without one (404,
 * 501, `Bad Request!`) goes without it and is asked again in an hour.
 *
 * Findings only: the cameras behind an NVR (issue 14 item 2: cameras on the NVR's own PoE
 * ports, which the gateway cannot reach) will be devices of their own whose state comes
 * from here, and a camera's address tells one reachable directly too. A channel is online
 * only when the NVR says Connected; Connecting (the NVR retrying a camera that does not
 * answer) and Unconnect are not. When getCameraAll answered, a channel without an enabled
 * camera bound to it is left out: it is a free channel, not a camera gone.
 */
import {
  type DriverCheck,
  type DriverCheckResult,
  driverMemory,
  isRecorder,
  type NvrChannel,
  SLOW_MS,
  vendorAttempt,
} from '../types.js';
import {
  parseCameraAll,
  parseCameraStates,
  parseChannelTitles,
  type DahuaCamera,
  type DahuaCameraState,
} from './cgi.js';
import { cgiGet } from './request.js';

export const PATHS = {
  cameraState: '/cgi-bin/LogicDeviceManager.cgi?action=getCameraState&uniqueChannels[0]=-1',
  channelTitles: '/cgi-bin/configManager.cgi?action=getConfig&name=ChannelTitle',
  cameras: '/cgi-bin/LogicDeviceManager.cgi?action=getCameraAll',
} as const;

/**
 * The channels as listed between polls (DriverMemory.channelList), ids 1-based as the
 * recorder shows them: with getCameraAll's answer, the channels with an enabled camera bound
 * (its address; the title, else the camera's own name); without it, every titled channel.
 */
export function channelList(
  titles: ReadonlyMap<number, string> | null,
  cameras: readonly DahuaCamera[] | null,
): NvrChannel[] | null {
  const bound = (cameras ?? []).filter((c) => c.enabled !== false && c.address !== null);
  if (bound.length > 0) {
    return bound.map((camera) => {
      const out: NvrChannel = { id: String(camera.uniqueChannel + 1), online: null };
      const name = titles?.get(camera.uniqueChannel) ?? camera.name;
      if (name) out.name = name;
      if (camera.address) out.address = camera.address;
      return out;
    });
  }
  if (!titles) return null;
  return [...titles].map(([n, name]) => ({ id: String(n + 1), name, online: null }));
}

/**
 * Each channel's state with what the list says of it. A list with addresses came from
 * getCameraAll: a channel missing from it has no camera and is left out.
 */
export function toChannels(
  states: readonly DahuaCameraState[],
  list: readonly NvrChannel[] | null,
): NvrChannel[] {
  const listed = new Map((list ?? []).map((c) => [c.id, c]));
  const camerasKnown = (list ?? []).some((c) => c.address !== undefined);
  const out: NvrChannel[] = [];
  for (const { channel, connectionState } of states) {
    const id = String(channel + 1);
    const known = listed.get(id);
    if (camerasKnown && !known) continue;
    const word = connectionState.trim();
    const found: NvrChannel = { id, online: word === '' ? null : /^connected$/i.test(word) };
    if (known?.name) found.name = known.name;
    if (known?.address) found.address = known.address;
    if (word) found.detail = word;
    out.push(found);
  }
  return out;
}

export const channels: DriverCheck = {
  name: 'dahua-channels',
  driver: 'dahua',
  async run(context) {
    if (!isRecorder(context)) return {};
    const memory = driverMemory(context.memory);
    const problems: string[] = [];
    /** Asks a list question: its answer read, or its refusal (which ends the check). */
    const list = async <T>(
      path: string,
      read: (body: string) => T,
    ): Promise<{ refused: DriverCheckResult } | { value: T | null; failed: boolean }> => {
      const answer: { value: T | null; failed: boolean } = { value: null, failed: false };
      const asked = await vendorAttempt(
        `GET ${path}`,
        () => cgiGet(context, path),
        (body) => {
          if (body !== null) answer.value = read(body);
          return {};
        },
      );
      if (asked.failure) return { refused: asked };
      // Failed (late, an error): kept among the findings, the states are still asked.
      const failed = asked.findings?.problems ?? [];
      problems.push(...failed);
      answer.failed = failed.length > 0;
      return answer;
    };
    if (memory.due('dahua-channel-list', SLOW_MS, context.now())) {
      const titles = await list(PATHS.channelTitles, parseChannelTitles);
      if ('refused' in titles) return titles.refused;
      const cameras = await list(PATHS.cameras, parseCameraAll);
      if ('refused' in cameras) return cameras.refused;
      // A question that failed (late, an error) says nothing of the cameras: the last good
      // list stays until the next good answer. Rebuilt from the titles alone, every free
      // channel would read as a camera gone (Unconnect) for SLOW_MS. A question the firmware
      // lacks (its answer null without a failure) is an answer: the titles are all there is.
      const failed = titles.failed || cameras.failed;
      if (!failed || memory.channelList === null) {
        memory.channelList = channelList(titles.value, cameras.value) ?? memory.channelList;
      }
    }
    const state = await vendorAttempt(
      `GET ${PATHS.cameraState}`,
      () => cgiGet(context, PATHS.cameraState),
      (body) =>
        body === null
          ? {}
          : { findings: { channels: toChannels(parseCameraStates(body), memory.channelList) } },
    );
    if (problems.length === 0 || state.failure) return state;
    // A list question failed but the states may not have: both go in the findings.
    const found = state.findings ?? {};
    return { findings: { ...found, problems: [...problems, ...(found.problems ?? [])] } };
  },
};
