/**
 * Cameras behind an NVR end to end in one process: the simulator's Hikvision-like and
 * Dahua-like NVRs (sim/vendor/: ISAPI channel status, CGI getCameraState, beside ONVIF), the
 * real agent (config file, polls, the vendor drivers, agent/behind-nvr.ts) and the whole
 * broker (MQTT, journal, pipeline, desk, HTTP API). A camera on the NVR's PoE port that the gateway cannot reach
 * goes down when the NVR reports its channel offline, with the NVR as witness in its state
 * and in its emergency ticket, and comes back; the NVR down makes it unknown, never up. An
 * NVR that speaks ONVIF only cannot say offline: its camera gone is degraded (video loss,
 * the NVR as witness), never a made-up outage. A channel with a camera behind it belongs to
 * that camera: what the NVR sees on it (black picture, video lost, recording stopped, a
 * covered lens) is the camera's, never a second ticket on the NVR.
 */
import { EventEmitter } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../../agent/agent.js';
import { CHANNEL_CODES } from '../../../agent/behind-nvr.js';
import { publicConfig } from '../../../agent/commands.js';
import { loadConfig } from '../../../agent/config.js';
import { MemoryLogger } from '../../../agent/log.js';
import { main } from '../../../agent/main.js';
import type { RunningBroker } from '../../../broker/app.js';
import type { Device } from '../../../shared/api/devices.js';
import type { Ticket } from '../../../shared/api/tickets.js';
import type { Message } from '../../../shared/wording/messages.js';
import { say } from '../../../shared/wording/render.js';
import { SimSite, type SimDeviceInfo } from '../../../sim/site.js';
import { loginToken, startTestBroker } from '../../helpers/broker.js';
import { eventually } from '../../helpers/eventually.js';
import { tempDir, type TempDir } from '../../helpers/temp.js';
import { ONVIF } from './harness.js';

const AGENT = 'gw-01';
/** A channel offline this long (polls every 1 s) makes its camera down; shorter is a reboot. */
const behindOfflineS = 3;

/**
 * Each vendor NVR of the simulator, with the word its API gives for a channel gone, and an
 * NVR that speaks ONVIF only: it cannot say a channel is offline (`gone` null).
 */
const recorders: { name: string; personality?: string; site: string; gone: string | null }[] = [
  {
    name: 'hikvision-nvr',
    personality: 'hikvision-nvr',
    site: 'it-behind-hik',
    gone: 'netUnreachable',
  },
  { name: 'dahua-nvr', personality: 'dahua-nvr', site: 'it-behind-dahua', gone: 'Unconnect' },
  { name: 'ONVIF-only NVR', site: 'it-behind-onvif', gone: null },
];

describe.each(recorders)(
  'a camera behind a $name, through the real agent and broker',
  ({ personality, site: SITE, gone }) => {
    let site: SimSite;
    let broker: RunningBroker;
    let dir: TempDir;
    let agent: Agent;
    let token = '';
    let nvr = '';
    /** A camera the gateway reaches that the NVR also records, on its channel 1. */
    let camera: SimDeviceInfo;
    const log = new MemoryLogger();

    beforeAll(async () => {
      site = new SimSite({
        siteId: SITE,
        credentials: ONVIF,
        devices: [
          { kind: 'nvr', channels: 4, ...(personality ? { personality } : {}) },
          { kind: 'camera', channels: 1 },
        ],
      });
      await site.start();
      nvr = site.devices().find((d) => d.kind === 'nvr')!.id;
      camera = site.devices().find((d) => d.kind === 'camera')!;
      broker = await startTestBroker();
      token = await loginToken(broker);
      const account = await broker.agents.add(SITE, AGENT);
      dir = await tempDir('vigil-behind-nvr-');
      const path = join(dir.path, 'agent.yaml');
      const info = site.device(nvr)!;
      await writeFile(
        path,
        [
          `siteId: ${SITE}`,
          `agentId: ${AGENT}`,
          'mqtt:',
          `  url: ${broker.mqttUrl}`,
          `  username: ${account.username}`,
          `  password: ${JSON.stringify(account.password)}`,
          'polling:',
          '  intervalS: 1',
          '  timeoutMs: 1000',
          '  recheckS: 0.3',
          `  behindOfflineS: ${behindOfflineS}`,
          '  healthIntervalS: 5',
          'checks:',
          // Pictures on, for what the NVR sees on a camera's channel; frozen and blurred
          // are not what these tests are about (a 1 s poll may read one frame twice).
          '  frozenPolls: 1000',
          '  blurBaselinePolls: 100000',
          '  stream: false',
          'onvif:',
          `  username: ${ONVIF.username}`,
          `  password: ${ONVIF.password}`,
          'devices:',
          `  - id: ${nvr}`,
          `    name: ${JSON.stringify(info.name)}`,
          '    kind: nvr',
          `    xaddr: ${info.xaddr}`,
          // Reached directly and recorded by the NVR on its channel 1.
          `  - id: ${camera.id}`,
          `    name: ${JSON.stringify(camera.name)}`,
          '    kind: camera',
          `    xaddr: ${camera.xaddr}`,
          `    behind: { nvr: ${nvr}, channel: 1 }`,
          // On the NVR's own PoE ports: no address the gateway could reach.
          '  - id: cam-poe-2',
          '    name: Gate (NVR port 2)',
          '    kind: camera',
          `    behind: { nvr: ${nvr}, channel: 2 }`,
          '  - id: cam-poe-3',
          '    name: Yard (NVR port 3)',
          '    kind: camera',
          `    behind: { nvr: ${nvr}, channel: 3 }`,
          '',
        ].join('\n'),
      );
      agent = new Agent({
        config: await loadConfig(path),
        log,
        version: '0.1.0-test',
        gateway: {
          sample: () => Promise.resolve({ cpuLoadPct: 3, memUsedPct: 40, diskUsedPct: 20 }),
        },
        reconnect: { minMs: 50, maxMs: 200 },
      });
      await agent.start();
    }, 30_000);

    afterAll(async () => {
      await agent?.stop();
      await broker?.stop();
      await site?.stop();
      await dir?.remove();
    });

    async function get<T>(path: string): Promise<T> {
      const response = await fetch(`${broker.httpUrl}${path}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.status, path).toBe(200);
      return (await response.json()) as T;
    }

    const deviceOf = async (id: string): Promise<Device | undefined> =>
      (await get<Device[]>(`/api/devices?site=${SITE}`)).find((d) => d.id === id);

    /** Waits until the broker has the device in `status`; resolves with it. */
    const reaches = (id: string, status: Device['status'], timeoutMs = 20_000): Promise<Device> =>
      eventually(
        `${id} ${status}`,
        async () => {
          const d = await deviceOf(id);
          return d?.status === status ? d : undefined;
        },
        timeoutMs,
      );

    const ticketsOf = async (id: string): Promise<Ticket[]> =>
      (await get<Ticket[]>('/api/tickets?status=all')).filter((t) => t.deviceId === id);

    /**
     * A few polls on, the NVR has said nothing of its channels (CHANNEL_CODES: the cameras
     * behind it are on every channel the faults touch), in its state or in a ticket opened
     * since `since`.
     */
    async function nvrSaysNothingOfChannels(since: number): Promise<void> {
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const reasons = (await deviceOf(nvr))?.reasons ?? [];
      expect(reasons.filter((r) => CHANNEL_CODES.has(r.code))).toEqual([]);
      const opened = (await ticketsOf(nvr)).filter((t) => Date.parse(t.openedAt) >= since);
      expect(opened.map((t) => t.fault)).toEqual([]);
    }

    it('is up while its channel is online, published at its NVR address and channel', async () => {
      const camera = await reaches('cam-poe-2', 'up');
      expect(camera.kind).toBe('camera');
      expect(camera.xaddr).toBe(`${site.device(nvr)!.xaddr}#channel=2`);
      // The NOC's poll-now of such a camera polls its NVR; report-config lists it.
      expect(await agent.pollNow('cam-poe-2')).toEqual([{ deviceId: 'cam-poe-2', status: 'up' }]);
      expect(publicConfig(agent.config).behindNvr).toEqual([
        expect.objectContaining({ id: 'cam-poe-2', behind: { nvr, channel: 2 } }),
        expect.objectContaining({ id: 'cam-poe-3', behind: { nvr, channel: 3 } }),
      ]);
    });

    it('a channel offline for a moment (a camera rebooting) is not an outage', async () => {
      if (gone === null) return; // ONVIF has no channel state to blink
      const since = Date.now();
      await site.setFault(nvr, { kind: 'channel-offline', channel: 2, durationS: 0.5 });
      // Seen offline by a poll or two, back well within behindOfflineS.
      await new Promise((resolve) => setTimeout(resolve, (behindOfflineS + 2) * 1000));
      expect((await deviceOf('cam-poe-2'))?.status).toBe('up');
      // No outage: no device-down ticket. (What the NVR's ONVIF side saw of the moment, a
      // black picture, may be said as such: that is not this test's question.)
      const tickets = await ticketsOf('cam-poe-2');
      expect(
        tickets.filter((t) => t.fault === 'device-down' && Date.parse(t.openedAt) >= since),
      ).toEqual([]);
    });

    it('a camera back from a reboot, its first moment of lost video, pages nobody', async () => {
      if (gone === null) return; // ONVIF has no channel state to come back from
      const since = Date.now();
      const states: string[] = [];
      const watch = setInterval(() => {
        void deviceOf('cam-poe-3').then((d) => d && states.push(d.status));
      }, 200);
      try {
        // Offline for 1.5 s, then online with its stream not there yet for 0.7 s more: the
        // NVR's first poll after the return sees video loss (most times: it polls every 1 s).
        await Promise.all([
          site.setFault(nvr, { kind: 'channel-offline', channel: 3, durationS: 1.5 }),
          site.setFault(nvr, { kind: 'video-loss', channel: 3, durationS: 2.2 }),
        ]);
        await new Promise((resolve) => setTimeout(resolve, (behindOfflineS + 3) * 1000));
      } finally {
        clearInterval(watch);
      }
      expect(states.filter((s) => s !== 'up')).toEqual([]);
      const opened = (await ticketsOf('cam-poe-3')).filter((t) => Date.parse(t.openedAt) >= since);
      expect(opened.map((t) => t.fault)).toEqual([]);
    });

    it('goes down with the NVR as witness when its channel goes offline (ONVIF only: degraded), with a ticket naming it', async () => {
      const since = Date.now();
      await site.setFault(nvr, { kind: 'channel-offline', channel: 2 });
      if (gone === null) {
        // ONVIF has no channel state: the video lost and the recording stopped are all it
        // sees, and no outage is made up from them.
        const lost = await reaches('cam-poe-2', 'degraded');
        expect(lost.reasons.map((r) => [r.code, r.witness])).toContainEqual(['video-loss', nvr]);
        expect(lost.reasons.find((r) => r.code === 'video-loss')?.message).toContain(
          'has lost the video of channel 2',
        );
        // They are the camera's, not the NVR's as well.
        await nvrSaysNothingOfChannels(since);
        return;
      }
      const camera = await reaches('cam-poe-2', 'down');
      expect(camera.reasons).toEqual([
        expect.objectContaining({ code: 'unreachable', witness: nvr }),
      ]);
      expect(camera.reasons[0]!.message).toContain(`reports channel 2 offline (${gone})`);
      // Its neighbour on port 3 stays up: only channel 2 is gone.
      expect((await deviceOf('cam-poe-3'))?.status).toBe('up');
      const ticket = await eventually(
        'the ticket of cam-poe-2',
        async () => (await ticketsOf('cam-poe-2')).find((t) => t.status === 'open'),
        10_000,
      );
      expect([ticket.fault, ticket.priority]).toEqual(['device-down', 'emergency']);
      const detected = ticket.timeline[0]!;
      expect(detected.text).toMatch(new RegExp(`^Device down \\(seen by NVR ${nvr}\\): `));
      expect(say(detected.message as Message, 'zh-CN')).toMatch(
        new RegExp(`^设备故障（由录像机 ${nvr} 发现）：`),
      );
      // One cause, one ticket: the black picture, the video lost and the recording stopped
      // of channel 2 are the unplugged camera's consequences, said on neither device.
      await nvrSaysNothingOfChannels(since);
      expect((await deviceOf('cam-poe-2'))?.reasons.map((r) => r.code)).toEqual(['unreachable']);
    });

    it('comes back up when the channel is online again, and its ticket resolves', async () => {
      await site.clearFaults(nvr);
      await reaches('cam-poe-2', 'up');
      await eventually(
        'the ticket of cam-poe-2 resolved',
        async () =>
          (await ticketsOf('cam-poe-2')).every((t) => t.status !== 'open') ? true : undefined,
        10_000,
      );
    });

    it("shows a lens covered on the NVR's channel on the camera behind it, with the NVR as witness", async () => {
      await reaches('cam-poe-2', 'up');
      const since = Date.now();
      await site.setFault(nvr, { kind: 'snapshot-covered', channel: 2 });
      const covered = await reaches('cam-poe-2', 'degraded');
      const reason = covered.reasons.find((r) => r.code === 'picture-covered');
      expect(reason?.witness).toBe(nvr);
      expect(reason?.message).toMatch(/ \(.+\) sees on channel 2: .*nearly uniform picture/);
      await nvrSaysNothingOfChannels(since);
      await site.clearFaults(nvr);
      await reaches('cam-poe-2', 'up');
    });

    it('is unknown, without reasons, while its NVR is down, and never a made-up up', async () => {
      await site.setFault(nvr, { kind: 'offline' });
      await reaches(nvr, 'down');
      const cameras = await eventually(
        'both cameras unknown',
        async () => {
          const both = await Promise.all(['cam-poe-2', 'cam-poe-3'].map(deviceOf));
          return both.every((d) => d?.status === 'unknown') ? both : undefined;
        },
        10_000,
      );
      for (const camera of cameras) expect(camera?.reasons).toEqual([]);
      expect(log.text()).toMatch(
        /camera cam-poe-2 \(behind .*, channel 2\) is not seen, its status is unknown: NVR .* is down/,
      );
      await site.clearFaults(nvr);
      await reaches('cam-poe-3', 'up', 30_000);
    });

    it('reached directly too: its own poll decides, the NVR adds the video it lost, as witness', async () => {
      await reaches(camera.id, 'up');
      await site.setFault(nvr, { kind: 'channel-offline', channel: 1 });
      const seen = await reaches(camera.id, 'degraded');
      // The NVR's recording of it stops too (the fault stops the channel's recording job).
      for (const reason of seen.reasons) expect(reason.witness).toBe(nvr);
      expect(seen.reasons.map((r) => r.code)).toContain('video-loss');
      expect(seen.reasons.find((r) => r.code === 'video-loss')?.message).toContain(
        gone === null
          ? 'has lost the video of channel 1'
          : `reports channel 1 offline (${gone}) while the gateway reaches the camera`,
      );
      await site.clearFaults(nvr);
      await reaches(camera.id, 'up');
    });

    it.skipIf(gone === null)(
      'vigil agent check of the NVR lists its channels and their cameras, for the behind: entries',
      async () => {
        const out: string[] = [];
        const info = site.device(nvr)!;
        await main(['check', info.xaddr, '--user', ONVIF.username, '--password', ONVIF.password], {
          log: new MemoryLogger(),
          signals: new EventEmitter(),
          exit: () => undefined,
          print: (text) => out.push(text),
          printError: (text) => out.push(text),
        });
        process.exitCode = undefined;
        const text = out.join('\n');
        expect(text).toMatch(/IP channels \(a camera on one is configured with behind: /);
        expect(text).toMatch(/\n {4}channel 2\b.*: online \(\w+\)/);
      },
    );
  },
);
