import { describe, expect, it } from 'vitest';
import { retainedMessages, stateMessageOf } from '../../../../broker/devices/retained.js';
import { deviceFromState } from '../../../../broker/stages/track-state.js';
import { deviceExample } from '../../../../shared/api/devices.js';
import { contract } from '../../../../shared/contract.js';
import { agentOnlineExample } from '../../../../shared/messages/agent-status.js';
import {
  deviceStateExample,
  deviceStateNvrExample,
} from '../../../../shared/messages/device-state.js';
import { topics } from '../../../../shared/topics.js';
import { validator } from '../../../../shared/validate.js';
import { envelope, metricsMessage, stateMessage } from '../stages/fixtures.js';

const checkState = validator(contract.deviceState.schema);

describe('the retained states a node rebuilds from the registry', () => {
  it('gives back the state message the registry was made from, as the broker`s (seq 0), valid by the contract', () => {
    for (const example of [deviceStateExample, deviceStateNvrExample]) {
      const rebuilt = stateMessageOf(deviceFromState(example, undefined));
      expect(checkState(rebuilt)).toEqual({ ok: true, value: rebuilt });
      expect(rebuilt).toEqual({ ...example, seq: 0 });
    }
  });

  it('leaves out a device no state message described', () => {
    expect(stateMessageOf({ ...deviceExample, since: null })).toBeNull();
  });

  it('retains the registry`s states, then the unfinished retained messages as sent, which win', () => {
    const cam01 = deviceFromState(deviceStateExample, undefined);
    const cam02 = { ...cam01, id: 'cam-02' };
    const newer = stateMessage({ seq: 99, status: 'up', reasons: [] });
    const birth = envelope(
      topics.agentStatus(agentOnlineExample.siteId, agentOnlineExample.agentId),
      agentOnlineExample,
    );
    const retained = retainedMessages([cam01, cam02], [metricsMessage(), newer, birth]);
    expect(retained.map((m) => m.topic)).toEqual([
      topics.deviceState('demo-site', 'cam-02'),
      topics.deviceState('demo-site', 'cam-01'),
      birth.topic,
    ]);
    // The agent's own bytes for cam-01 (its newer state), the registry's for cam-02.
    expect(retained[1]!.payload).toBe(newer.payload);
    const cam02State = JSON.parse(retained[0]!.payload.toString()) as { deviceId: string };
    expect(cam02State.deviceId).toBe('cam-02');
  });
});
