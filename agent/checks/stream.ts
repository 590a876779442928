/**
 * Does the RTSP server deliver each channel? trt:GetStreamUri once per channel (kept),
 * then an RTSP DESCRIBE of that URI every poll (RFC 2326 section 10.2): 200 with an SDP
 * means the stream is there. Anything else: degraded, stream-down, for that channel.
 */
import type { Reason } from '../../shared/messages/device-state.js';
import { degradeOnFailure, type Check } from './types.js';

export const stream: Check = {
  name: 'stream',
  liveView: true,
  enabled: (settings) => settings.stream,
  async run({ client, signal, memory }) {
    const degraded: Reason[] = [];
    let up = 0;
    for (const channel of memory.channels) {
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
      }
    }
    return { values: { streamsUp: up }, degraded };
  },
};
