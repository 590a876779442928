/**
 * Does the RTSP server deliver each channel? trt:GetStreamUri once per channel (kept),
 * then an RTSP DESCRIBE of that URI (RFC 2326 section 10.2): 200 with an SDP means the
 * stream is there. Anything else: degraded, stream-down, for that channel. A device's
 * channels are described in turn (./turns.ts, checks.channelsPerPoll): a camera's every
 * poll, an NVR's few a poll, and one found down every poll until it is up again.
 */
import type { Reason } from '../../shared/messages/device-state.js';
import { channelsInTurn } from './turns.js';
import { degradeOnFailure, type Check } from './types.js';

export const stream: Check = {
  name: 'stream',
  liveView: true,
  enabled: (settings) => settings.stream,
  async run({ client, signal, memory, settings }) {
    const degraded: Reason[] = [];
    let up = 0;
    const inTurn = channelsInTurn(
      memory.channels,
      (c) => memory.streamsGood.get(c.sourceToken),
      memory.streamTurn,
      settings.channelsPerPoll,
    );
    for (const channel of memory.channels) {
      if (!inTurn.has(channel)) {
        // Up at its last look (channelsInTurn): so it stands until its turn.
        up += 1;
        continue;
      }
      // Down until this look says otherwise (a failure below leaves it so).
      memory.streamsGood.set(channel.sourceToken, false);
      let uri = memory.streamUris.get(channel.profileToken);
      if (uri === undefined) {
        const asked = await degradeOnFailure(
          'stream-down',
          () => client.streamUri(channel.profileToken, signal),
          channel.sourceToken,
        );
        if ('reason' in asked) {
          degraded.push(asked.reason);
          continue;
        }
        uri = asked.value;
        memory.streamUris.set(channel.profileToken, uri);
      }
      const described = await degradeOnFailure(
        'stream-down',
        () => client.describe(uri, signal),
        channel.sourceToken,
      );
      if ('reason' in described) {
        degraded.push(described.reason);
      } else if (described.value !== 200) {
        degraded.push({
          code: 'stream-down',
          message: `RTSP DESCRIBE of ${channel.name} answered ${described.value}`,
          channel: channel.sourceToken,
        });
      } else {
        up += 1;
        memory.streamsGood.set(channel.sourceToken, true);
      }
    }
    return { values: { streamsUp: up }, degraded };
  },
};
