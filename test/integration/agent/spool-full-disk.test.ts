/**
 * The agent's spool on a gateway whose disk fills up: a real (tmpfs) file system of
 * 64 KiB, so the kernel answers ENOSPC, and short writes, part-way through a write as a
 * full SD card would. While the disk is full, records are kept in memory (bounded) and
 * still delivered; once there is room they go to disk again, in order; nothing the spool
 * took is missing after a restart, and the agent neither stops nor floods its log.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from '../../../agent/agent.js';
import { loadConfig } from '../../../agent/config.js';
import { MemoryLogger } from '../../../agent/log.js';
import { DiskSpool } from '../../../agent/spool/disk.js';
import type { SpoolRecord } from '../../../agent/spool/types.js';
import { SimSite } from '../../../sim/site.js';
import { eventually } from '../../helpers/eventually.js';
import { root, skipReason, titled } from '../../helpers/requires.js';
import {
  MQTT_USER,
  ONVIF,
  SITE,
  startBroker,
  Watcher,
  writeAgentConfig,
  type Seen,
  type TestBroker,
} from './harness.js';

const TOPIC = 'vigil/v1/it-site/devices/cam-01/metrics';
// About 1 KiB each: 64 KiB fill within a few dozen.
const big = (seq: number): string => JSON.stringify({ seq, pad: 'x'.repeat(1000) });
const small = (seq: number): string => JSON.stringify({ seq, pad: 'y'.repeat(100) });
const all = { records: 100_000, bytes: 1e9 };

// Mounting a small tmpfs needs root (CI and this project's machines run as root).
const notRoot = skipReason(root);

/** Fills the file system to the last byte, as a runaway log file would. */
async function fill(mount: string): Promise<void> {
  await writeFile(join(mount, 'filler'), Buffer.alloc(2 * 1024 * 1024)).catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOSPC') throw error;
    },
  );
}

const errors = (log: MemoryLogger, code: string): string[] =>
  log.lines.filter((l) => l.message.startsWith(code)).map((l) => l.message);

describe.skipIf(notRoot)(titled('agent spool on a full disk', notRoot), () => {
  let mount: string;
  const spools: DiskSpool[] = [];
  beforeEach(async () => {
    mount = await mkdtemp(join(tmpdir(), 'vigil-spool-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mount]);
  });
  afterEach(async () => {
    for (const spool of spools.splice(0)) await spool.stop().catch(() => undefined);
    // Lazy: detached even when a failed test left a file of the spool open.
    execFileSync('umount', ['-l', mount]);
    await rm(mount, { recursive: true, force: true });
  });

  function spool(log: MemoryLogger, more: { memoryBytes?: number } = {}): DiskSpool {
    const made = new DiskSpool({
      dir: join(mount, 'spool'),
      stateDelayMs: 5,
      retryMs: 50,
      log,
      ...more,
    });
    spools.push(made);
    return made;
  }

  it('keeps taking records in memory, serves them in order, and writes them first once there is room', async () => {
    const log = new MemoryLogger();
    const first = spool(log);
    await first.start();
    const taken: SpoolRecord[] = [];
    // Far more than 64 KiB: the disk fills part-way (a short write, then ENOSPC).
    for (let i = 0; i < 100; i++) taken.push(await first.append(TOPIC, false, big));
    expect(taken.map((r) => r.seq)).toEqual([...Array(100).keys()]);
    const full = first.stats();
    expect(full).toMatchObject({ writeError: 'ENOSPC', depth: 100, dropped: 0 });
    expect(full.held).toBeGreaterThan(20);
    expect(first.durableSeq).toBeLessThan(99 - 20);
    // The uplink reads them all, disk and memory alike, in order, intact.
    const read = await first.read(0, all);
    expect(read.map((r) => r.seq)).toEqual(taken.map((r) => r.seq));
    expect(read.map((r) => r.payload)).toEqual(taken.map((r) => r.payload));
    // One line, not one per record, naming the folder to free.
    const dir = join(mount, 'spool');
    expect(errors(log, 'VIGIL_SPOOL_DISK_FULL')).toEqual([
      expect.stringMatching(new RegExp(`${dir}.*ENOSPC.*Free space .*df -h ${dir}`)),
    ]);

    // The broker acknowledges part of it: those need never reach the disk.
    first.ack(70);
    expect(first.headSeq).toBe(71);
    expect((await first.read(0, all)).map((r) => r.seq)).toEqual(taken.slice(71).map((r) => r.seq));

    // Room again (an operator deleted old logs): the spool notices by itself.
    execFileSync('mount', ['-o', 'remount,size=1m', mount]);
    await eventually('the disk taking writes', () => first.stats().writeError === null);
    expect(first.stats().held).toBe(0);
    expect(log.lines.filter((l) => l.message.includes('takes writes again'))).toHaveLength(1);
    for (let i = 0; i < 10; i++) taken.push(await first.append(TOPIC, false, big));
    expect(first.durableSeq).toBe(109);
    await first.stop();

    // After a restart: everything not acknowledged, in order, none missing, none twice;
    // no torn record in the middle of a segment hides the ones after it.
    const second = spool(log);
    await second.start();
    const back = await second.read(0, all);
    expect(back.map((r) => r.seq)).toEqual(taken.slice(71).map((r) => r.seq));
    expect(back.map((r) => r.payload)).toEqual(taken.slice(71).map((r) => r.payload));
    expect((await second.append(TOPIC, false, big)).seq).toBe(110);
  });

  it('starts and stops on a full disk, bounds what memory holds, and never hands out a seq twice', async () => {
    const log = new MemoryLogger();
    const first = spool(log);
    await first.start();
    for (let i = 0; i < 5; i++) await first.append(TOPIC, false, small);
    await first.stop();

    // The disk is full before the agent (re)starts: a gateway rebooted in that state.
    await fill(mount);
    const second = spool(log, { memoryBytes: 4 * 1024 });
    await second.start();
    expect((await second.read(0, all)).map((r) => r.seq)).toEqual([0, 1, 2, 3, 4]);
    for (let i = 0; i < 60; i++) await second.append(TOPIC, false, small);
    const stats = second.stats();
    expect(stats.writeError).toBe('ENOSPC');
    // The last block of the segment took a few more; then 4 KiB of memory cannot hold the
    // rest: the oldest held went, counted.
    const onDisk = second.durableSeq + 1;
    expect(stats.dropped).toBeGreaterThan(10);
    expect(onDisk + stats.held + stats.dropped).toBe(65);
    const kept = (await second.read(0, all)).map((r) => r.seq);
    expect(kept).toEqual([
      ...Array.from({ length: onDisk }, (_, i) => i),
      ...Array.from({ length: stats.held }, (_, i) => 65 - stats.held + i),
    ]);
    expect(errors(log, 'VIGIL_SPOOL_DISK_FULL')).toHaveLength(2); // refused, memory used up

    // Room: what memory held goes to disk, behind what was there.
    await rm(join(mount, 'filler'));
    await eventually('the disk taking writes', () => second.stats().writeError === null);
    // Full again, and the agent is stopped: what only memory holds is lost, and said so.
    await fill(mount);
    for (let i = 0; i < 3; i++) await second.append(TOPIC, false, small);
    await second.stop();
    expect(errors(log, 'VIGIL_SPOOL_DISK_FULL').at(-1)).toMatch(
      /3 message\(s\) .* lost with this stop/,
    );

    const third = spool(log);
    await third.start();
    expect((await third.read(0, all)).map((r) => r.seq)).toEqual(kept);
    expect(third.stats().dropped).toBe(stats.dropped);
    // 65..67 were handed out (and might have reached the broker): not again.
    expect((await third.append(TOPIC, false, small)).seq).toBe(68);
  });
});

const againstBroker = titled(
  'agent with its data folder on a full disk, against a real broker',
  notRoot,
);

describe.skipIf(notRoot)(againstBroker, () => {
  let mount: string;
  let broker: TestBroker;
  let site: SimSite;
  let agent: Agent | null = null;
  const watchers: Watcher[] = [];

  beforeEach(async () => {
    mount = await mkdtemp(join(tmpdir(), 'vigil-agent-full-'));
    // The config (and its password file) outside, the data folder on the small disk.
    await mkdir(join(mount, 'data'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', join(mount, 'data')]);
    broker = await startBroker();
    site = new SimSite({ siteId: SITE, cameras: 2, nvrs: 0, credentials: ONVIF, seed: 3 });
    await site.start();
  });
  afterEach(async () => {
    await agent?.stop().catch(() => undefined);
    agent = null;
    for (const watcher of watchers.splice(0)) await watcher.stop();
    await site.stop();
    await broker.stop();
    execFileSync('umount', ['-l', join(mount, 'data')]);
    await rm(mount, { recursive: true, force: true });
  });

  async function watch(): Promise<Watcher> {
    const watcher = new Watcher();
    await watcher.start(broker.url);
    watchers.push(watcher);
    return watcher;
  }

  async function startAgent(log: MemoryLogger): Promise<Agent> {
    const path = await writeAgentConfig(mount, broker.url, site.devices(), {
      extra: ['dataDir: data', 'checks:', '  frozenPolls: 20'],
    });
    agent = new Agent({
      config: await loadConfig(path),
      log,
      version: '0.1.0-test',
      gateway: { sample: async () => ({ cpuLoadPct: 3, memUsedPct: 40, diskUsedPct: 100 }) },
      reconnect: { minMs: 100, maxMs: 400 },
    });
    await agent.start();
    return agent;
  }

  /** The seqs of the agent's records as the broker took them (batches opened), in order. */
  function taken(into: number[]): void {
    broker.aedes.on('publish', (packet, client) => {
      if (client?.id !== MQTT_USER) return;
      const body = JSON.parse(packet.payload.toString()) as {
        seq?: number;
        records?: { message: { seq?: number } }[];
      };
      for (const message of body.records?.map((r) => r.message) ?? [body]) {
        if (typeof message.seq === 'number') into.push(message.seq);
      }
    });
  }
  const health = (m: Seen): Record<string, unknown> =>
    (m.payload.spool ?? {}) as Record<string, unknown>;
  const consecutive = (seqs: number[]): number[] =>
    Array.from({ length: seqs.length }, (_, i) => (seqs[0] as number) + i);

  it('delivers what it polls while the disk is full, in order, and loses nothing across space coming back and a restart', async () => {
    const log = new MemoryLogger();
    const first: number[] = [];
    taken(first);
    let watcher = await watch();
    await startAgent(log);
    await watcher.waitFor((m) => m.parsed.kind === 'deviceMetrics');

    // The gateway's disk fills up (a runaway log); the agent polls on.
    await fill(join(mount, 'data'));
    const fullAt = Date.now();
    const reported = await watcher.waitFor(
      (m) => m.parsed.kind === 'agentHealth' && health(m).diskError === 'ENOSPC',
      { since: fullAt },
    );
    // Readings taken while the disk is full reach the broker, for every device.
    for (const device of site.devices()) {
      await watcher.waitFor(
        (m) =>
          m.parsed.kind === 'deviceMetrics' &&
          m.payload.deviceId === device.id &&
          m.at > reported.at,
      );
    }
    // In order from the first record, none missing, none twice.
    expect(first[0]).toBe(0);
    expect(first).toEqual(consecutive(first));
    const dataDir = join(mount, 'data', 'spool');
    expect(errors(log, 'VIGIL_SPOOL_DISK_FULL')).toEqual([
      expect.stringContaining(`Free space on the gateway's file system that holds ${dataDir}`),
    ]);

    // Then the broker goes away too: what is polled now waits in memory only.
    const port = Number(new URL(broker.url).port);
    await broker.stop();
    await watcher.stop();
    watchers.splice(0);
    await new Promise((r) => setTimeout(r, 2500));
    // Space comes back (the operator freed it); the spool writes memory to disk by itself.
    execFileSync('mount', ['-o', 'remount,size=1m', join(mount, 'data')]);
    await eventually(
      'the spool writing to disk again',
      () => log.lines.some((l) => l.message.includes('takes writes again')),
      15_000,
    );
    // The agent is restarted before the broker is back: the backlog is on disk now.
    await agent?.stop();
    agent = null;
    expect(errors(log, 'VIGIL_SPOOL_DISK_FULL').filter((l) => l.includes('lost'))).toEqual([]);

    broker = await startBroker({ port });
    const second: number[] = [];
    taken(second);
    watcher = await watch();
    await startAgent(log);
    // The birth goes after the backlog: once it is in, the backlog is too.
    await watcher.waitFor((m) => m.parsed.kind === 'agentStatus' && m.payload.state === 'online');
    // The replay is in order and continues where the first broker stopped: every record
    // the agent took while the disk was full, or while both were away, is there.
    expect(second).toEqual([...second].sort((a, b) => a - b));
    expect(new Set(second).size).toBe(second.length);
    const got = [...new Set([...first, ...second])].sort((a, b) => a - b);
    expect(got).toEqual(consecutive(got));
    expect(Math.max(...second)).toBeGreaterThan(Math.max(...first) + 5);
    expect(watcher.invalid).toEqual([]);
  });
});
