/**
 * An NVR's remote (IP) channels and whether it reaches each camera:
 * /cgi-bin/LogicDeviceManager.cgi?action=getCameraState&uniqueChannels[0]=-1 every poll
 * (`states[N].channel`, 0-based, and `connectionState`: Connected, Connecting, Unconnect),
 * with the channels' names from configManager getConfig ChannelTitle at most every SLOW_MS;
 * recorders only (as the storage check). The same call the recorder's own web page makes
 * over RPC2 (`LogicDeviceManager.getCameraState` with `uniqueChannels: [-1]`); firmware
 * without it (404, 501, `Bad Request!`) reports nothing and is asked again in an hour.
 *
 * Findings only: the cameras behind an NVR (issue 14 item 2: cameras on the NVR's own PoE
 * ports, which the gateway cannot reach) will be devices of their own whose state comes
 * from here. A channel is online only when the NVR says Connected; Connecting (the NVR
 * retrying a camera that does not answer) and Unconnect are not.
 */
import {
  driverMemory,
  isRecorder,
  vendorAttempt,
  type DriverCheck,
  type NvrChannel,
} from '../types.js';
import { parseCameraStates, parseChannelTitles, type DahuaCameraState } from './cgi.js';
import { cgiGet } from './request.js';
import { SLOW_MS } from './system.js';

export const PATHS = {
  cameraState: '/cgi-bin/LogicDeviceManager.cgi?action=getCameraState&uniqueChannels[0]=-1',
  channelTitles: '/cgi-bin/configManager.cgi?action=getConfig&name=ChannelTitle',
} as const;

/** The NVR's channels as every driver's are (../types.ts NvrChannel): ids 1-based, as shown. */
export function toChannels(
  states: readonly DahuaCameraState[],
  titles: ReadonlyMap<number, string> | null,
): NvrChannel[] {
  return states.map(({ channel, connectionState }) => {
    const word = connectionState.trim();
    const out: NvrChannel = {
      id: String(channel + 1),
      online: word === '' ? null : /^connected$/i.test(word),
    };
    const name = titles?.get(channel);
    if (name) out.name = name;
    if (word) out.detail = word;
    return out;
  });
}

/** Channel names by 0-based channel, kept between polls (DriverMemory.channelList). */
function titlesOf(list: readonly NvrChannel[] | null): Map<number, string> | null {
  if (!list) return null;
  return new Map(list.flatMap((c) => (c.name ? [[Number(c.id) - 1, c.name] as const] : [])));
}

export const channels: DriverCheck = {
  name: 'dahua-channels',
  driver: 'dahua',
  async run(context) {
    if (!isRecorder(context)) return {};
    const memory = driverMemory(context.memory);
    let problems: string[] = [];
    if (memory.due('dahua-channel-titles', SLOW_MS, context.now())) {
      const listed = await vendorAttempt(
        `GET ${PATHS.channelTitles}`,
        () => cgiGet(context, PATHS.channelTitles),
        (body) => {
          if (body !== null) {
            memory.channelList = [...parseChannelTitles(body)].map(([n, name]) => ({
              id: String(n + 1),
              name,
              online: null,
            }));
          }
          return {};
        },
      );
      // Refused: the state would be refused too, and the refusal ends the check.
      if (listed.failure) return listed;
      problems = listed.findings?.problems ?? [];
    }
    const state = await vendorAttempt(
      `GET ${PATHS.cameraState}`,
      () => cgiGet(context, PATHS.cameraState),
      (body) =>
        body === null
          ? {}
          : {
              findings: {
                channels: toChannels(parseCameraStates(body), titlesOf(memory.channelList)),
              },
            },
    );
    if (problems.length === 0 || state.failure) return state;
    // The names failed but the states may not have: both go in the findings.
    const found = state.findings ?? {};
    return { findings: { ...found, problems: [...problems, ...(found.problems ?? [])] } };
  },
};
