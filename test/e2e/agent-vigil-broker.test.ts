/**
 * Delivery without loss into the metrics store, with real processes end to end: the
 * Vigil broker (`vigil broker`, embedded metrics store, journal, dedupe by seq) and the
 * agent (`vigil agent`) polling a simulated site. The broker is stopped for the outage;
 * halfway through, the agent is killed with SIGKILL and started again; then the broker
 * comes back. In the metrics store afterwards: no reading twice, and no hole in any
 * device's readings during the outage beyond the agent's own restart.
 *
 * Outage: VIGIL_AGENT_OUTAGE_S / 2 seconds (default 30; 600 for the manual run).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { DiskSpool } from '../../agent/spool/disk.js';
import { SimSite } from '../../sim/site.js';
import { vigilEntry } from '../helpers/demo.js';
import { eventually } from '../helpers/eventually.js';
import { freePorts } from '../helpers/ports.js';
import { built, need } from '../helpers/requires.js';
import { AGENT, ONVIF, SITE, tempDir, writeAgentConfig } from '../integration/agent/harness.js';

const OUTAGE_S = Number(process.env.VIGIL_AGENT_OUTAGE_S ?? 60) / 2;
const AGENT_PASSWORD = 'agent-password-for-e2e-0001';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Rows of the broker's metrics store (SQLite, WAL: read beside the running broker). */
function query<T>(file: string, sql: string, ...params: unknown[]): T[] {
  if (!existsSync(file)) return [];
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

async function run(
  args: string[],
  env: Record<string, string>,
  ready: RegExp | null,
): Promise<Proc> {
  const child = spawn(process.execPath, [vigilEntry, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  if (ready) {
    const started = Date.now();
    while (!ready.test(output)) {
      if (child.exitCode !== null || Date.now() - started > 30_000) {
        throw new Error(`${args.join(' ')} did not start:\n${output}`);
      }
      await sleep(50);
    }
  }
  return { child, output: () => output, exited };
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

it(
  'through the Vigil broker: every reading of the outage in the metrics store, none twice',
  { timeout: (OUTAGE_S + 120) * 1000 },
  async () => {
    need(built);
    const dir = await tempDir();
    cleanups.push(() => dir.remove());
    const brokerDir = join(dir.path, 'broker');
    const [mqttPort, httpPort] = (await freePorts(2)) as [number, number];
    const added = await run(
      [
        'broker',
        'add-agent',
        '--data-dir',
        brokerDir,
        '--site',
        SITE,
        '--name',
        AGENT,
        '--password-env',
        'VIGIL_AGENT_PASSWORD',
      ],
      { VIGIL_AGENT_PASSWORD: AGENT_PASSWORD },
      null,
    );
    expect(await added.exited, added.output()).toBe(0);
    const brokerConfig = join(dir.path, 'broker.yaml');
    await writeFile(
      brokerConfig,
      [
        `dataDir: ${brokerDir}`,
        'mqtt:',
        '  host: 127.0.0.1',
        `  port: ${mqttPort}`,
        'http:',
        '  host: 127.0.0.1',
        `  port: ${httpPort}`,
        '',
      ].join('\n'),
    );
    const brokerEnv = { VIGIL_ADMIN_PASSWORD: 'e2e-admin-password' };
    let broker = await run(['broker', '--config', brokerConfig], brokerEnv, /MQTT on/);
    cleanups.push(async () => {
      if (broker.child.exitCode === null) broker.child.kill('SIGKILL');
    });

    const site = new SimSite({ siteId: SITE, cameras: 3, nvrs: 0, credentials: ONVIF });
    await site.start();
    cleanups.push(() => site.stop());
    const config = await writeAgentConfig(
      dir.path,
      `mqtt://127.0.0.1:${mqttPort}`,
      site.devices(),
      {
        mqttPassword: AGENT_PASSWORD,
        intervalS: 0.5,
        // Short reconnect delays: the test waits for the replay, not for a 60 s backoff.
        reconnectMaxS: 1,
        extra: ['checks:', '  picture: false', '  stream: false'],
      },
    );
    let agent = await run(['agent', '--config', config], {}, /vigil agent: ready/);
    cleanups.push(async () => {
      if (agent.child.exitCode === null) agent.child.kill('SIGKILL');
    });
    // Running before the outage: a few readings of every device stored.
    const metricsFile = join(brokerDir, 'metrics.db');
    await eventually('three readings of every device in the metrics store', () => {
      const counts = query<{ device: string; n: number }>(
        metricsFile,
        "SELECT t.value AS device, COUNT(*) AS n FROM points p JOIN series_tags t ON t.series_id = p.series_id AND t.key = 'device' GROUP BY t.value",
      );
      return site.devices().every((d) => (counts.find((c) => c.device === d.id)?.n ?? 0) >= 3);
    });

    broker.child.kill('SIGTERM');
    expect(await broker.exited).toBe(0);
    const outageStart = Date.now();
    await sleep((OUTAGE_S * 1000) / 2);
    agent.child.kill('SIGKILL');
    await agent.exited;
    const killedAt = Date.now();
    agent = await run(['agent', '--config', config], {}, /vigil agent: ready/);
    const restartedAt = Date.now();
    await sleep((OUTAGE_S * 1000) / 2);
    const outageEnd = Date.now();
    broker = await run(['broker', '--config', brokerConfig], brokerEnv, /MQTT on/);
    const backAt = Date.now();
    // The replay is over once the agent, taken after the broker came back, reports an empty
    // spool, and that report is stored (after everything it sent before it, in order).
    await eventually(
      'an empty spool reported after the outage',
      () =>
        query(
          metricsFile,
          "SELECT 1 FROM points p JOIN series s ON s.id = p.series_id WHERE s.measurement = 'agent' AND p.time > ? AND json_extract(p.fields, '$.spoolDepth') = 0 LIMIT 1",
          backAt,
        ).length > 0,
      60_000,
    );
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    broker.child.kill('SIGTERM');
    expect(await broker.exited).toBe(0);

    const spool = new DiskSpool({ dir: join(dir.path, 'spool') });
    await spool.start();
    expect(spool.stats().depth).toBe(0);
    await spool.stop();

    const db = new Database(join(brokerDir, 'metrics.db'), { readonly: true });
    try {
      // None twice: the raw readings are one per series and time (the store's unique key),
      // and the 5-minute rollups the charts and reports read count each reading once.
      const counted = db
        .prepare(
          `SELECT s.tags,
             (SELECT COUNT(*) FROM points p WHERE p.series_id = s.id
                AND json_extract(p.fields, '$.responseMs') IS NOT NULL) AS raw,
             (SELECT COALESCE(SUM(r.count), 0) FROM rollup_5m r JOIN fields f ON f.id = r.field_id
                WHERE r.series_id = s.id AND f.name = 'responseMs') AS rolled
           FROM series s WHERE s.measurement = 'device'`,
        )
        .all() as { tags: string; raw: number; rolled: number }[];
      expect(counted.length).toBe(site.devices().length);
      for (const row of counted) expect(row.rolled, row.tags).toBe(row.raw);
      const rows = db
        .prepare(
          "SELECT s.tags, p.time FROM points p JOIN series s ON s.id = p.series_id WHERE s.measurement = 'device' ORDER BY p.time",
        )
        .all() as { tags: string; time: number }[];
      for (const device of site.devices()) {
        const times = rows
          .filter((r) => (JSON.parse(r.tags) as { device: string }).device === device.id)
          .map((r) => r.time)
          .filter((t) => t > outageStart - 2000 && t < outageEnd + 2000);
        expect(times.length, device.id).toBeGreaterThan(OUTAGE_S);
        for (let i = 1; i < times.length; i++) {
          const gap = (times[i] as number) - (times[i - 1] as number);
          const acrossRestart =
            (times[i - 1] as number) <= restartedAt + 2000 &&
            (times[i] as number) >= killedAt - 2000;
          // 0.5 s polls with jitter; the agent's own restart (SIGKILL, then start) is the only longer pause.
          expect(gap, `${device.id} at ${new Date(times[i] as number).toISOString()}`).toBeLessThan(
            acrossRestart ? restartedAt - killedAt + 4000 : 2500,
          );
        }
      }
      console.log(
        `agent-vigil-broker: ${rows.length} device readings in the metrics store, none twice, over a ${OUTAGE_S} s outage with a SIGKILL`,
      );
    } finally {
      db.close();
    }
  },
);
