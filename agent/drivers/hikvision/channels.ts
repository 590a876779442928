/**
 * An NVR's IP channels and whether it reaches each camera:
 * /ISAPI/ContentMgmt/InputProxy/channels/status every poll (`online`, `chanDetectResult`),
 * with the channels' names and addresses from /ISAPI/ContentMgmt/InputProxy/channels at
 * most every SLOW_MS; recorders only (as the storage check). Findings only for now: the cameras behind an NVR (issue 14 item 2:
 * cameras on the NVR's own PoE ports, which the gateway cannot reach) will be devices of
 * their own whose state comes from here.
 */
import { type DriverCheck, driverMemory, isRecorder, SLOW_MS, vendorAttempt } from '../types.js';
import { isapiGet, mergeChannels, parseChannelList, parseChannelStatus, PATHS } from './isapi.js';

export const channels: DriverCheck = {
  name: 'hikvision-channels',
  driver: 'hikvision',
  async run(context) {
    if (!isRecorder(context)) return {};
    const memory = driverMemory(context.memory);
    if (memory.due('hikvision-channel-list', SLOW_MS, context.now())) {
      const listed = await vendorAttempt(
        `GET ${PATHS.channels}`,
        () => isapiGet(context, PATHS.channels),
        (doc) => {
          if (doc) memory.channelList = parseChannelList(doc);
          return {};
        },
      );
      // Refused, or failed: the status tells the same, and its refusal ends the check.
      if (listed.failure || listed.findings) return listed;
    }
    return vendorAttempt(
      `GET ${PATHS.channelStatus}`,
      () => isapiGet(context, PATHS.channelStatus),
      (doc) =>
        doc
          ? { findings: { channels: mergeChannels(parseChannelStatus(doc), memory.channelList) } }
          : {},
    );
  },
};
