/**
 * An upgrade keeps the user's data (issue 12): a data folder written by the broker of
 * commit cbf448a (test/fixtures/upgrade-cbf448a/, README.md there says how) opens in
 * this broker, whose migrations build what the reports now read from the readings
 * already stored, and the reports of its past periods give the figures that version gave.
 *
 * That version's periods were UTC months; since customers (issue 16) a period is a month in
 * the customer's zone, and the upgrade makes the site's free-text customer a customer in
 * Asia/Shanghai. Set to UTC, the customer's reports give the old figures again.
 */
import { cpSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../../broker/app.js';
import type { InspectionReport } from '../../../shared/api/inspection.js';
import { startTestBroker, TEST_ADMIN_PASSWORD } from '../../helpers/broker.js';
import { tempDir, type TempDir } from '../../helpers/temp.js';

const fixture = fileURLToPath(new URL('../../fixtures/upgrade-cbf448a/', import.meta.url));
const SITE = 'upgrade-site';

describe('upgrade from cbf448a', () => {
  let dir: TempDir;
  let broker: RunningBroker;

  beforeEach(async () => {
    dir = await tempDir('vigil-upgrade-');
    // A copy: the broker migrates the files in place.
    cpSync(`${fixture}data`, dir.path, { recursive: true });
    // The fixture's readings are of 2026: rollups kept a century, so that this test still
    // opens them when they are older than the default two years. Raw readings keep the
    // default month: the reports must come from the rollups the migration built.
    broker = await startTestBroker({
      dataDir: dir.path,
      settings: { metrics: { rollupDays: 36_500 } },
    });
  });

  afterEach(async () => {
    await broker?.stop();
    await dir?.remove();
  });

  it.each(['2026-10', '2026-11'])(
    'gives the report of %s with the figures the old version gave',
    async (period) => {
      const login = await fetch(`${broker.httpUrl}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: TEST_ADMIN_PASSWORD }),
      });
      const { token } = (await login.json()) as { token: string };
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const customer = await fetch(`${broker.httpUrl}/api/customers/example-logistics`, {
        headers,
      });
      expect(await customer.json()).toMatchObject({
        name: 'Example Logistics',
        timeZone: 'Asia/Shanghai',
        sites: [SITE],
      });
      const utc = await fetch(`${broker.httpUrl}/api/customers/example-logistics`, {
        method: 'PATCH',
        headers,
        body: JSON.stringify({ timeZone: 'UTC' }),
      });
      expect(utc.status).toBe(200);
      const response = await fetch(
        // In English, the one language that version wrote (issue 16: the customer's since).
        `${broker.httpUrl}/api/sites/${SITE}/inspection?period=${period}&locale=en`,
        { headers: { authorization: `Bearer ${token}` } },
      );
      expect(response.status).toBe(200);
      const {
        generatedAt: _now,
        timeZone,
        ...report
      } = (await response.json()) as InspectionReport;
      expect(timeZone).toBe('UTC');
      const { generatedAt: _then, ...expected } = JSON.parse(
        readFileSync(`${fixture}expected-${period}.json`, 'utf8'),
      ) as InspectionReport;
      // The fixture is not empty where it matters: November has its weekly trends.
      if (period === '2026-11') expect(expected.trends.length).toBeGreaterThan(0);
      // Every figure that version gave, the same; what reports gained since (how fast tickets
      // were acknowledged, issue 15; the report's language and its 12 months, issue 16) may
      // be added beside them, never in their place. A suggestion's words are no figure: they
      // are rendered from its rule and figures in today's wording (shared/wording, advice.*).
      const figuresOnly = expected.suggestions.map(({ text: _words, ...rest }) => rest);
      expect(report).toMatchObject({ ...expected, suggestions: figuresOnly });
      expect(report.suggestions.map((s) => s.message?.code)).toEqual(
        expected.suggestions.map((s) => `advice.${s.rule}`),
      );
      const gained = ['locale', 'monthly'];
      expect(Object.keys(report).sort()).toEqual([...Object.keys(expected), ...gained].sort());
    },
  );
});
