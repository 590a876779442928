/**
 * The HTTPS pin store (agent/tls-pins.ts) on real files: trust on first use, refusal of
 * another certificate, acceptance with its record, what `vigil agent trust` (another
 * process writing the same file) accepted is taken up and never overwritten whatever the
 * clocks say, every write waits for the lock file another writer holds, and a damaged
 * file never turns into trust on first use: it is read from its last good copy, and with
 * none every device is refused until an operator accepts it.
 */
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryLogger } from '../../../agent/log.js';
import {
  PINS_BACKUP,
  PINS_FILE,
  PINS_LOCK,
  PinsLocked,
  PinStore,
  type PinAt,
} from '../../../agent/tls-pins.js';
import { tempDir, type TempDir } from '../../helpers/temp.js';

const A = `${'AA:'.repeat(31)}01`;
const B = `${'BB:'.repeat(31)}02`;
const C = `${'CC:'.repeat(31)}03`;
/** A camera's device service, and its snapshots on another port with their own certificate. */
const SERVICE = '192.0.2.11:443';
const SNAPSHOTS = '192.0.2.11:8443';

function at(deviceId: string, endpoint = SERVICE): PinAt {
  return { deviceId, endpoint, service: endpoint === SERVICE };
}

let dir: TempDir;
let log: MemoryLogger;

beforeEach(async () => {
  dir = await tempDir('vigil-pins-');
  log = new MemoryLogger();
});
afterEach(async () => {
  vi.useRealTimers();
  await dir.remove();
});

function store(): PinStore {
  const pins = new PinStore(dir.path, log);
  pins.load();
  return pins;
}

describe('PinStore', () => {
  it('pins the first certificate, keeps it on disk, and refuses another naming both', () => {
    const pins = store();
    expect(pins.verify(at('cam-01'), A)).toEqual({ ok: true, firstUse: true });
    expect(pins.verify(at('cam-01'), A)).toEqual({ ok: true, firstUse: false });
    // A new process (an agent restart) reads the same pin.
    const again = store();
    expect(again.get(at('cam-01'))).toMatchObject({ fingerprint: A, how: 'first-use' });
    expect(again.verify(at('cam-01'), B)).toEqual({ ok: false, pinned: A, presented: B });
    expect(again.refusals('cam-01')).toEqual([{ endpoint: SERVICE, presented: B }]);
    // Other devices have pins of their own.
    expect(again.verify(at('cam-02'), C)).toEqual({ ok: true, firstUse: true });
  });

  it('accepts a new certificate with who and the previous one, and clears the refusal', async () => {
    const pins = store();
    pins.verify(at('cam-01'), A);
    pins.verify(at('cam-01'), B);
    expect(pins.accept(at('cam-01'), B, 'noc:alice')).toEqual({ previous: A, accepted: B });
    expect(pins.refusals('cam-01')).toEqual([]);
    expect(pins.verify(at('cam-01'), B)).toEqual({ ok: true, firstUse: false });
    const file = JSON.parse(await readFile(join(dir.path, PINS_FILE), 'utf8')) as {
      devices: Record<string, Record<string, unknown>>;
    };
    expect(file.devices['cam-01']?.[SERVICE]).toMatchObject({
      fingerprint: B,
      how: 'accepted',
      history: [{ by: 'noc:alice', previous: A, accepted: B, at: expect.any(String) }],
    });
  });

  it('takes up what another process accepted even when its clock is behind, and a save of its own keeps it', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-06T12:00:00.000Z'));
    const agent = store();
    agent.verify(at('cam-01'), A);
    // `vigil agent trust` in another process accepts B, its clock a minute behind (NTP
    // stepped it back): the file's revision orders the writes, not the wall clock.
    vi.setSystemTime(new Date('2026-12-06T11:59:00.000Z'));
    store().accept(at('cam-01'), B, 'gateway:root');
    // The running agent, still holding A, sees B: it reads the file before refusing.
    expect(agent.verify(at('cam-01'), B)).toEqual({ ok: true, firstUse: false });
    // A pin of its own afterwards does not write the older A back over B.
    agent.verify(at('cam-02'), C);
    expect(store().get(at('cam-01'))).toMatchObject({ fingerprint: B, how: 'accepted' });
  });

  it('pins each address of a device apart: the snapshot port presents a certificate of its own', () => {
    const pins = store();
    expect(pins.verify(at('cam-01'), A)).toEqual({ ok: true, firstUse: true });
    expect(pins.verify(at('cam-01', SNAPSHOTS), C)).toEqual({ ok: true, firstUse: true });
    expect(pins.verify(at('cam-01', SNAPSHOTS), B)).toEqual({ ok: false, pinned: C, presented: B });
    expect(pins.refusals('cam-01')).toEqual([{ endpoint: SNAPSHOTS, presented: B }]);
    const again = store();
    expect(again.get(at('cam-01'))).toMatchObject({ fingerprint: A });
    expect(again.get(at('cam-01', SNAPSHOTS))).toMatchObject({ fingerprint: C });
  });

  it('reads a file of one pin per device (version 1) as the pin of its service address, and writes it back per address', async () => {
    const old = {
      fingerprint: A,
      since: '2026-12-01T08:00:00.000Z',
      how: 'accepted',
      history: [{ at: '2026-12-01T08:00:00.000Z', by: 'noc:alice', previous: C, accepted: A }],
    };
    await writeFile(
      join(dir.path, PINS_FILE),
      JSON.stringify({ version: 1, devices: { 'cam-01': old } }),
    );
    const pins = store();
    // The old pin holds at the service address: another certificate there is refused.
    expect(pins.verify(at('cam-01'), B)).toEqual({ ok: false, pinned: A, presented: B });
    // Another address of the device is pinned apart.
    expect(pins.verify(at('cam-01', SNAPSHOTS), C)).toEqual({ ok: true, firstUse: true });
    const file = JSON.parse(await readFile(join(dir.path, PINS_FILE), 'utf8')) as {
      version: number;
      devices: Record<string, Record<string, unknown>>;
    };
    expect(file.version).toBe(2);
    expect(file.devices['cam-01']).toEqual({
      [SERVICE]: old,
      [SNAPSHOTS]: expect.objectContaining({ fingerprint: C, how: 'first-use' }),
    });
  });

  it('writes only under the lock file: while another process holds it, nothing is written and the error names it', async () => {
    const pins = store();
    pins.verify(at('cam-01'), A);
    const before = await readFile(join(dir.path, PINS_FILE), 'utf8');
    // A live process (this one's parent, say vigil agent trust) holds the lock.
    await writeFile(join(dir.path, PINS_LOCK), String(process.ppid));
    const waiting = new PinStore(dir.path, log, { lockWaitMs: 0 });
    waiting.load();
    expect(() => waiting.accept(at('cam-01'), B, 'gateway:root')).toThrow(PinsLocked);
    expect(() => waiting.accept(at('cam-01'), B, 'gateway:root')).toThrow(PINS_LOCK);
    // A first use waits for the lock too: refused this time, not pinned unwritten.
    expect(waiting.verify(at('cam-02'), C)).toMatchObject({
      ok: false,
      pinned: null,
      presented: C,
    });
    expect(await readFile(join(dir.path, PINS_FILE), 'utf8')).toBe(before);
  });

  it('takes over a lock whose process is gone, and releases its own', async () => {
    // The pid of a process that ran and ended (killed between lock and unlock).
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    await writeFile(join(dir.path, PINS_LOCK), String(gone));
    const pins = new PinStore(dir.path, log, { lockWaitMs: 0 });
    pins.load();
    expect(pins.verify(at('cam-01'), A)).toEqual({ ok: true, firstUse: true });
    await expect(readFile(join(dir.path, PINS_LOCK), 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('reads a damaged file from its last good copy: every pin written holds, none is trusted anew', async () => {
    const pins = store();
    pins.verify(at('cam-01'), A);
    pins.verify(at('cam-02'), C);
    await writeFile(join(dir.path, PINS_FILE), '{"version":1,"devices":{"cam-01":{"finger');
    const again = store();
    expect(again.get(at('cam-02'))).toMatchObject({ fingerprint: C });
    expect(again.verify(at('cam-01'), B)).toEqual({ ok: false, pinned: A, presented: B });
    expect(log.text()).toContain(PINS_BACKUP);
  });

  it('with neither the file nor its copy readable, refuses every device instead of pinning it, until an operator accepts it; a restart keeps refusing', async () => {
    await writeFile(join(dir.path, PINS_FILE), '{"version":1,"devices":{"cam-01":{"finger');
    const pins = store();
    expect(pins.verify(at('cam-01'), A)).toMatchObject({
      ok: false,
      pinned: null,
      presented: A,
      why: expect.stringMatching(new RegExp(`${PINS_FILE}.*vigil agent trust cam-01`)),
    });
    expect(pins.refusals('cam-01')).toEqual([{ endpoint: SERVICE, presented: A }]);
    // The operator compares and accepts it on the gateway (another process).
    expect(store().accept(at('cam-01'), A, 'gateway:root')).toEqual({
      previous: null,
      accepted: A,
    });
    expect(pins.verify(at('cam-01'), A)).toEqual({ ok: true, firstUse: false });
    // Any other device is still refused, by this agent and after a restart alike.
    expect(pins.verify(at('cam-02'), C)).toMatchObject({ ok: false, pinned: null });
    expect(store().verify(at('cam-02'), C)).toMatchObject({ ok: false, pinned: null });
    // The damaged file is kept for a look.
    expect(await readFile(join(dir.path, `${PINS_FILE}.corrupt`), 'utf8')).toContain('finger');
  });
});
