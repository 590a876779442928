/**
 * Retention measured in the demo's own processes (`vigil demo` from dist/: simulator,
 * broker, agent): a recorder that keeps 12 days from the start (the retention-short fault
 * of its site file) is measured at the agent's second poll of it (the first cannot tell a
 * full recorder from one still filling; the second sees its oldest data moved on, i.e.
 * overwritten: agent/checks/retention.ts), the broker opens the
 * general ticket "recordings kept 12 days, the contract says 30" (the default goal), and the
 * month's inspection report shows that retention in its trend and its advice. A budget
 * recorder that says 1970-01-01 for its oldest data shows no retention, not 20,000 days.
 * The ticket's resolution needs the next hourly measurement: test/integration/agent/
 * retention.test.ts moves a clock for it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectionPath, type InspectionReport } from '../../shared/api/inspection.js';
import type { Ticket } from '../../shared/api/tickets.js';
import { startDemo, type RunningDemo } from '../helpers/demo.js';
import { eventually } from '../helpers/eventually.js';

/** The agent's first two polls of every device, with room for a busy machine. */
const FIRST_POLL_MS = 90_000;

const siteFile = `# test/e2e/retention.test.ts: two recorders, one keeping 12 days from the start
site: demo-site
seed: retention
devices:
  - kind: camera
    count: 2
  - kind: nvr
    channels: 4
  - kind: nvr
    channels: 2
    personality: budget-nvr
faults:
  - device: nvr-01
    at: 0
    fault: { kind: retention-short, days: 12 }
`;

describe('a recorder keeping 12 days where the contract says 30', () => {
  let demo: RunningDemo;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-retention-'));
    const file = join(dir, 'retention.yaml');
    writeFileSync(file, siteFile);
    demo = await startDemo({ VIGIL_DEMO_SITE: file });
  });

  afterAll(async () => {
    await demo?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gets a general ticket naming both figures, and the report shows the measured retention', async () => {
    const ticket = await eventually(
      'the retention ticket',
      async () =>
        (await demo.api<Ticket[]>('/api/tickets?status=open')).find(
          (t) => t.fault === 'degraded:retention-short',
        ),
      FIRST_POLL_MS,
    );
    expect(ticket).toMatchObject({ deviceId: 'nvr-01', priority: 'general' });
    expect(ticket.title).toMatch(/: recordings kept 12 days, the contract says 30$/);

    const month = new Date().toISOString().slice(0, 7);
    const report = await eventually(
      "the month's report with nvr-01's retention",
      async () => {
        const r = await demo.api<InspectionReport>(inspectionPath('demo-site', month));
        return r.trends.some((t) => t.deviceId === 'nvr-01' && t.retentionDays !== null)
          ? r
          : undefined;
      },
      FIRST_POLL_MS,
    );
    const retention = (id: string) =>
      report.trends.filter((t) => t.deviceId === id).map((t) => t.retentionDays);
    expect(retention('nvr-01').at(-1)).toBeCloseTo(12, 1);
    expect(retention('nvr-02').every((days) => days === null)).toBe(true);
    expect(report.suggestions).toContainEqual(
      expect.objectContaining({
        deviceId: 'nvr-01',
        rule: 'retention-below-goal',
        figures: { retentionDays: 12, goalDays: 30 },
      }),
    );
    // Only the short recorder: the budget one's 1970 start is no retention at all.
    const open = await demo.api<Ticket[]>('/api/tickets?status=open');
    expect(
      open.filter((t) => t.fault === 'degraded:retention-short').map((t) => t.deviceId),
    ).toEqual(['nvr-01']);
  });
});
