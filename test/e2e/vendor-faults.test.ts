/**
 * What only the vendors' own APIs tell (issue 14), end to end in real processes: `vigil
 * sim` with a Hikvision-like and a Dahua-like recorder (test/fixtures/vendor-site.yaml),
 * `vigil agent` reading ISAPI and Dahua CGI beside ONVIF, `vigil broker`; each fault is
 * injected through the simulator's control API and what the NOC sees is read from the
 * broker's API: the device's reasons, the ticket's condition, title and priority.
 *
 * - a disk in error or failing S.M.A.R.T. (ISAPI), in error or unformatted (Dahua CGI) is
 *   `storage-failure` naming the disk, an emergency ticket (the contract: "an NVR whose recording stopped or whose
 *   storage failed", ../shared/mission/service-commitments.md; broker/tickets/
 *   priorities.ts), resolved when the disk is back;
 * - an empty bay (`notexist`, as real recorders list it) is nothing: no reason, no ticket,
 *   one disk fewer in the `storages` reading;
 * - a blurred picture on a camera whose sharpness baseline is learned is the general
 *   ticket `picture-blurred`;
 * - a camera on the recorder's own PoE port (`behind: {nvr, channel}`, no address the
 *   gateway reaches) goes down when the recorder reports its channel offline, the
 *   recorder named as witness, with an emergency ticket, the only one: the channel's black
 *   picture, video loss and stopped recording are the camera's, not the recorder's too;
 * - the month's inspection report shows each recorder's storage use (storageUsedPct from
 *   the vendor driver) and its measured retention in its trends.
 *
 * The agent polls every 2 s and learns a camera's usual sharpness from 3 pictures
 * (blurBaselinePolls, agent/picture.ts) so the file runs in a few minutes; the waits are
 * generous for a loaded 2-core machine, the assertions are on what the NOC reads.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Device } from '../../shared/api/devices.js';
import { inspectionPath, type InspectionReport } from '../../shared/api/inspection.js';
import type { MetricSeries } from '../../shared/api/metrics.js';
import type { Ticket } from '../../shared/api/tickets.js';
import type { Message } from '../../shared/wording/messages.js';
import { say } from '../../shared/wording/render.js';
import { eventually } from '../helpers/eventually.js';
import { startScenarioSite, type ScenarioSite } from './scenario-site.js';

const siteFile = fileURLToPath(new URL('../fixtures/vendor-site.yaml', import.meta.url));
/** Ids the simulator gives the site file's devices, in order (sim/model.ts deviceId). */
const CAMERA = 'cam-01';
const HIK = 'nvr-01';
const DAHUA = 'nvr-02';
/** A camera on the Hikvision recorder's PoE port 2: only the recorder sees it. */
const POE_CAMERA = 'cam-poe-2';
/** The scenario site's polling.intervalS (test/e2e/scenario-site.ts). */
const POLL_S = 2;
const BLUR_BASELINE_POLLS = 3;
/** A few polls and the broker's decision, with room for a busy machine. */
const DETECT_MS = 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("faults only the vendors' APIs tell, through the real agent and broker", () => {
  let site: ScenarioSite;

  const device = async (id: string) =>
    (await site.api<Device[]>('/api/devices')).find((d) => d.id === id);
  const openTickets = async (id: string) =>
    (await site.api<Ticket[]>('/api/tickets?status=open')).filter((t) => t.deviceId === id);
  const openTicket = (id: string, fault: string) =>
    eventually(
      `the open ${fault} ticket of ${id}`,
      async () => (await openTickets(id)).find((t) => t.fault === fault),
      DETECT_MS,
    );
  const resolved = (id: string, fault: string) =>
    eventually(
      `the ${fault} ticket of ${id} resolved`,
      async () => !(await openTickets(id)).some((t) => t.fault === fault),
      DETECT_MS,
    );
  const reasonOf = (id: string, code: string) =>
    eventually(
      `a ${code} reason on ${id}`,
      async () => (await device(id))?.reasons.find((r) => r.code === code),
      DETECT_MS,
    );
  const inject = async (id: string, fault: Record<string, unknown>) => {
    const response = await fetch(`${site.simUrl}/sim/devices/${id}/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(fault),
    });
    expect(response.status, `${JSON.stringify(fault)} on ${id}`).toBe(201);
  };
  /** The newest reading of a device's field, bucketed by the second. */
  const lastReading = async (id: string, field: string, since: Date) => {
    const query = new URLSearchParams({
      measurement: 'device',
      device: id,
      field,
      from: since.toISOString(),
      to: new Date(Date.now() + 60_000).toISOString(),
      bucketS: '1',
    });
    const series = await site.api<MetricSeries>(`/api/metrics/series?${query.toString()}`);
    return series.max.at(-1) ?? null;
  };

  beforeAll(async () => {
    site = await startScenarioSite({
      siteFile,
      checks: { blurBaselinePolls: BLUR_BASELINE_POLLS, blurPolls: 2 },
      moreDevices: [
        {
          id: POE_CAMERA,
          name: 'Gate (NVR port 2)',
          kind: 'camera',
          behind: { nvr: HIK, channel: 2 },
        },
      ],
    });
    await eventually(
      'all four devices up',
      async () => {
        const list = await site.api<Device[]>('/api/devices');
        return list.length === 4 && list.every((d) => d.status === 'up');
      },
      90_000,
    );
  }, 150_000);

  afterAll(async () => {
    await site?.stop();
  });

  it('a Hikvision disk in error is an emergency storage-failure naming the disk, resolved once it is back', async () => {
    await inject(HIK, { kind: 'disk-error', disk: 1 });
    const reason = await reasonOf(HIK, 'storage-failure');
    expect(reason.message).toMatch(/^disk hdd1 is error: /);
    const ticket = await openTicket(HIK, 'degraded:storage-failure');
    expect(ticket.priority).toBe('emergency');
    expect(ticket.title).toMatch(new RegExp(`\\(${HIK}\\): storage failure$`));
    expect(say(ticket.titleMessage as Message, 'zh-CN')).toMatch(/存储故障/);
    // The other bay works: one reason, for disk 1 only.
    expect((await device(HIK))?.reasons.filter((r) => r.code === 'storage-failure')).toHaveLength(
      1,
    );

    await site.clear(HIK);
    await resolved(HIK, 'degraded:storage-failure');
    expect((await device(HIK))?.reasons.map((r) => r.code)).not.toContain('storage-failure');
  });

  it('an empty bay is no failure: no reason, no ticket, one disk fewer', async () => {
    const since = new Date();
    await inject(HIK, { kind: 'disk-removed', disk: 2 });
    // The agent read the bay empty: `storages` counts the disks present.
    await eventually(
      `${HIK} reading one disk present`,
      async () => (await lastReading(HIK, 'storages', since)) === 1,
      DETECT_MS,
    );
    // A few more polls to be sure nothing follows the reading.
    await sleep(4 * POLL_S * 1000);
    // Only the storage verdict: a loaded machine may rightly add a slow answer or two.
    expect((await device(HIK))?.reasons.map((r) => r.code)).not.toContain('storage-failure');
    expect((await openTickets(HIK)).map((t) => t.fault)).not.toContain('degraded:storage-failure');

    await site.clear(HIK);
    await eventually(
      `${HIK} reading both disks again`,
      async () => (await lastReading(HIK, 'storages', since)) === 2,
      DETECT_MS,
    );
  });

  it('a Dahua disk unformatted is an emergency storage-failure, resolved once formatted', async () => {
    await inject(DAHUA, { kind: 'disk-unformatted', disk: 2 });
    const reason = await reasonOf(DAHUA, 'storage-failure');
    // Dahua names a disk by its device path; its bay number is the id.
    expect(reason.message).toMatch(/^disk \S+ \(id 2\) is unformatted: .*format it/);
    const ticket = await openTicket(DAHUA, 'degraded:storage-failure');
    expect(ticket.priority).toBe('emergency');
    expect(ticket.title).toMatch(new RegExp(`\\(${DAHUA}\\): storage failure$`));

    await site.clear(DAHUA);
    await resolved(DAHUA, 'degraded:storage-failure');
  });

  // The other failed states each vendor reports: a SMART failure in ISAPI (the disk still
  // works, its free space is read), a disk in error in Dahua's CGI (State Error).
  it.each([
    {
      what: 'a Hikvision disk failing S.M.A.R.T.',
      nvr: HIK,
      fault: { kind: 'disk-error', disk: 2, state: 'smartFailed' },
      says: /^disk hdd2 is smartFailed: /,
    },
    {
      what: 'a Dahua disk in error',
      nvr: DAHUA,
      fault: { kind: 'disk-error', disk: 1 },
      // The device's own word, and what led to the verdict.
      says: /^disk \S+ \(id 1\) is Error: the recorder reports it failed \(State Error, IsError on /,
    },
  ])('$what is an emergency storage-failure too', async ({ nvr, fault, says }) => {
    await inject(nvr, fault);
    expect((await reasonOf(nvr, 'storage-failure')).message).toMatch(says);
    expect((await openTicket(nvr, 'degraded:storage-failure')).priority).toBe('emergency');
    await site.clear(nvr);
    await resolved(nvr, 'degraded:storage-failure');
  });

  it('a blurred picture after the baseline is learned is a general picture-blurred ticket', async () => {
    // The camera has been up for the tests above (tens of polls); the baseline needs 3.
    await sleep((BLUR_BASELINE_POLLS + 1) * POLL_S * 1000);
    await inject(CAMERA, { kind: 'picture-blurred' });
    const reason = await reasonOf(CAMERA, 'picture-blurred');
    expect(reason.message).toMatch(/shows a blurred picture: sharpness .*% of its usual/);
    const ticket = await openTicket(CAMERA, 'degraded:picture-blurred');
    expect(ticket.priority).toBe('general');
    expect(ticket.title).toMatch(new RegExp(`\\(${CAMERA}\\): blurred picture$`));

    await site.clear(CAMERA);
    await resolved(CAMERA, 'degraded:picture-blurred');
  });

  it('a camera on the NVR port goes down with the NVR as witness when its channel goes offline, one ticket', async () => {
    const since = Date.now();
    await inject(HIK, { kind: 'channel-offline', channel: 2 });
    const camera = await eventually(
      `${POE_CAMERA} down`,
      async () => {
        const d = await device(POE_CAMERA);
        return d?.status === 'down' ? d : undefined;
      },
      DETECT_MS,
    );
    expect(camera.reasons).toEqual([
      expect.objectContaining({ code: 'unreachable', witness: HIK }),
    ]);
    expect(camera.reasons[0]!.message).toMatch(/\(nvr-01\) reports channel 2 offline/);
    const ticket = await openTicket(POE_CAMERA, 'device-down');
    expect(ticket.priority).toBe('emergency');
    expect(ticket.timeline[0]!.text).toMatch(new RegExp(`^Device down \\(seen by NVR ${HIK}\\): `));
    // The recorder itself answers: it is not down for a camera it lost.
    expect((await device(HIK))?.status).not.toBe('down');
    // One cause, one dispatch: a few polls on, the camera's ticket is the only one opened
    // (agent/behind-nvr.ts: the channel's black picture, video loss and stopped recording
    // are consequences of the camera gone, said on neither device).
    await sleep(3 * POLL_S * 1000);
    const opened = (await site.api<Ticket[]>('/api/tickets?status=all')).filter(
      (t) => Date.parse(t.openedAt) >= since && (t.deviceId === HIK || t.deviceId === POE_CAMERA),
    );
    expect(opened.map((t) => [t.deviceId, t.fault])).toEqual([[POE_CAMERA, 'device-down']]);
    expect((await device(POE_CAMERA))?.reasons.map((r) => r.code)).toEqual(['unreachable']);

    await site.clear(HIK);
    await resolved(POE_CAMERA, 'device-down');
    await eventually(
      `${POE_CAMERA} up`,
      async () => (await device(POE_CAMERA))?.status === 'up',
      DETECT_MS,
    );
  });

  it("the month's inspection report shows each recorder's storage use and measured retention", async () => {
    const month = new Date().toISOString().slice(0, 7);
    const report = await eventually(
      "the month's report with both recorders' storage",
      async () => {
        const r = await site.api<InspectionReport>(inspectionPath('demo-site', month));
        return [HIK, DAHUA].every((id) =>
          r.trends.some((t) => t.deviceId === id && t.storageUsedPct !== null),
        )
          ? r
          : undefined;
      },
      DETECT_MS,
    );
    for (const id of [HIK, DAHUA]) {
      const week = report.trends.filter((t) => t.deviceId === id).at(-1)!;
      // Two 4 TB disks that start 60 % full (sim/vendor/storage.ts) and fill slowly.
      expect(week.storageUsedPct, id).toBeGreaterThanOrEqual(60);
      expect(week.storageUsedPct, id).toBeLessThan(100);
    }
    // Retention from Profile G: the simulator's recorders keep 30 days (sim/recording.ts).
    for (const id of [HIK, DAHUA]) {
      const week = report.trends.filter((t) => t.deviceId === id).at(-1)!;
      expect(week.retentionDays, id).toBeCloseTo(30, 0);
    }
    // A camera has no disks: no storage trend.
    expect(
      report.trends.filter((t) => t.deviceId === CAMERA).every((t) => t.storageUsedPct === null),
    ).toBe(true);
  });
});
