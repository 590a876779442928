/**
 * Polls one simulated device as the agent does (agent/poll.ts runChecks), on a clock the
 * test moves by `intervalS` a poll, and says which requests of that device each poll made
 * (the simulator's request log). The clock is the process's Date, faked before the
 * simulator starts (`vi.useFakeTimers({ toFake: ['Date'] })`; timers stay real): the
 * simulator runs in the test's process, so its nonces, token windows, lockouts and
 * recordings move with the agent's clock.
 */
import { vi } from 'vitest';
import type { SimRequestLogEntry } from '../../../shared/api/sim.js';
import { checks } from '../../../agent/checks/index.js';
import { DeviceMemory } from '../../../agent/checks/types.js';
import { checkDefaults } from '../../../agent/config.js';
import { OnvifDeviceClient, type OnvifTarget } from '../../../agent/onvif/adapter.js';
import { runChecks, type PollResult } from '../../../agent/poll.js';
import { Secret } from '../../../agent/secret.js';
import { SimSite, type SimSiteOptions } from '../../../sim/site.js';
import { ONVIF, SITE } from './harness.js';

/**
 * A simulated site of SITE-`name` whose clocks read a faked Date (faked before it starts,
 * timers real), for simPoller; `stop` ends it and gives the real Date back.
 */
export async function fakeClockSite(
  name: string,
  devices: SimSiteOptions['devices'],
): Promise<{ site: SimSite; stop(): Promise<void> }> {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date());
  const site = new SimSite({ siteId: `${SITE}-${name}`, credentials: ONVIF, devices });
  await site.start();
  return {
    site,
    stop: async () => {
      await site.stop();
      vi.useRealTimers();
    },
  };
}

export interface SimPoller {
  memory: DeviceMemory;
  /** One poll, then the clock moves on by the interval. */
  poll(): Promise<{ result: PollResult; requests: SimRequestLogEntry[] }>;
}

/**
 * `account`: the device's credentials as the agent's config gives them (its ONVIF account
 * and a `vendor:` account); default ONVIF of ./harness.ts.
 */
export function simPoller(
  site: SimSite,
  id: string,
  intervalS: number,
  account?: Pick<OnvifTarget, 'username' | 'password' | 'vendor'>,
): SimPoller {
  const info = site.device(id)!;
  const client = new OnvifDeviceClient(
    {
      xaddr: info.xaddr,
      ...(account ?? { username: ONVIF.username, password: new Secret(ONVIF.password) }),
    },
    { timeoutMs: 2000 },
  );
  const memory = new DeviceMemory();
  return {
    memory,
    async poll() {
      // The simulator keeps a device's last 500 requests: a test reads fewer than that.
      const before = site.requests(id).length;
      const result = await runChecks(checks, {
        device: { id, name: info.name, kind: info.kind, xaddr: info.xaddr },
        client,
        signal: new AbortController().signal,
        settings: { ...checkDefaults },
        memory,
        now: Date.now,
        intervalS,
      });
      const requests = site.requests(id).slice(before);
      vi.setSystemTime(Date.now() + intervalS * 1000);
      return { result, requests };
    },
  };
}

/** The reason codes of a poll; a failure as `down:<code>`. */
export const codes = (result: PollResult): string[] =>
  result.ok ? result.degraded.map((r) => r.code) : [`down:${result.failure.code}`];
