/**
 * A 16-channel recorder's memory and one poll of a check over it with the default
 * settings, for the tests of the checks whose channels take turns (agent/checks/turns.ts).
 */
import { DeviceMemory, type Check, type CheckContext } from '../../../agent/checks/types.js';
import { checkDefaults } from '../../../agent/config.js';
import type { OnvifClient } from '../../../agent/onvif/types.js';

export function sixteenChannels(width: number, height: number): DeviceMemory {
  const memory = new DeviceMemory();
  memory.channels = Array.from({ length: 16 }, (_, i) => ({
    profileToken: `P${i + 1}`,
    sourceToken: `V${i + 1}`,
    name: `Channel ${i + 1}`,
    encoding: 'H264',
    width,
    height,
    profiles: 1,
  }));
  return memory;
}

/** One poll of `check`; `looked` is what the fake client recorded, emptied first and copied. */
export async function pollOnce(
  check: Check,
  client: OnvifClient,
  memory: DeviceMemory,
  looked: number[],
) {
  looked.length = 0;
  const result = await check.run({
    client,
    signal: new AbortController().signal,
    memory,
    settings: { ...checkDefaults },
    now: () => Date.now(),
  } as Partial<CheckContext> as CheckContext);
  return { result, looked: [...looked] };
}
