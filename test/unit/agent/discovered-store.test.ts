/**
 * The file that keeps discovered devices across restarts, on a real temporary folder:
 * what one run saves the next one restores; a torn or damaged file never stops the agent.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Adoption, discoveredId } from '../../../agent/adoption.js';
import type { DeviceConfig } from '../../../agent/config.js';
import { DISCOVERED_FILE, DiscoveredStore } from '../../../agent/discovered-store.js';
import { MemoryLogger } from '../../../agent/log.js';
import type { DiscoveredDevice } from '../../../agent/onvif/discovery.js';
import { Secret } from '../../../agent/secret.js';

const account = { username: 'monitor', password: new Secret('site-secret') };

function found(n: number): DiscoveredDevice {
  const xaddr = `http://192.0.2.${n}/onvif/device_service`;
  return {
    endpoint: `urn:uuid:00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    xaddr,
    xaddrs: [xaddr],
    scopes: ['onvif://www.onvif.org/Profile/G'],
    name: `Rec ${n}`,
    hardware: null,
  };
}

let dir: string;
let log: MemoryLogger;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-discovered-'));
  log = new MemoryLogger();
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('DiscoveredStore', () => {
  it('gives back what the last run adopted, as NVRs with the site account', async () => {
    const before = new Adoption();
    before.update([found(2), found(3)], [], 'auto');
    const store = new DiscoveredStore(dir, log);
    await store.save(before.saved());
    expect(await readdir(dir)).toEqual([DISCOVERED_FILE]);

    const after = new Adoption();
    after.restore(await new DiscoveredStore(dir, log).load(), [], 'auto');
    expect(after.adopted(account)).toEqual(before.adopted(account));
    expect(after.adopted(account)[0]).toMatchObject({ id: discoveredId(found(2)), kind: 'nvr' });
    expect(log.lines).toEqual([]);
  });

  it('restores the approval list in approve mode, and leaves out devices configured since', async () => {
    const at = new Date('2026-11-26T08:00:00Z');
    const before = new Adoption();
    before.update([found(2), found(3)], [], 'approve', at);
    const store = new DiscoveredStore(dir, log);
    await store.save(before.saved());
    const configured: DeviceConfig = {
      id: 'rec-3',
      name: 'Recorder 3',
      kind: 'nvr',
      xaddr: 'http://192.0.2.3:80/onvif/device_service',
      ...account,
    };
    const after = new Adoption();
    after.restore(await store.load(), [configured], 'approve');
    expect(after.pending()).toEqual([before.pending()[0]]);
    expect(after.pending()[0]?.firstSeenAt).toBe(at.toISOString());
    // Adopted devices are not polled in approve mode.
    after.restore(await store.load(), [], 'auto');
    expect(after.adopted(account)).toEqual([]);
  });

  it('is empty without a file; a temporary file left by a power cut is ignored', async () => {
    await writeFile(join(dir, `${DISCOVERED_FILE}.tmp`), '{"version":1,"ado');
    expect(await new DiscoveredStore(dir, log).load()).toEqual({
      version: 1,
      adopted: [],
      pending: [],
    });
    expect(log.lines).toEqual([]);
  });

  it.each([
    ['torn JSON', '{"version":1,"adopted":[{"id":"onvif-1",'],
    ['another shape', '{"version":2,"adopted":"all"}'],
  ])('sets a damaged file (%s) aside with a warning, and starts empty', async (_, text) => {
    await writeFile(join(dir, DISCOVERED_FILE), text);
    const store = new DiscoveredStore(dir, log);
    expect((await store.load()).adopted).toEqual([]);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]?.level).toBe('warn');
    expect(log.lines[0]?.message).toMatch(
      /discovered\.json is damaged .* set aside as .*\.corrupt/,
    );
    expect(await readFile(join(dir, `${DISCOVERED_FILE}.corrupt`), 'utf8')).toBe(text);
    // The next save writes a good file again.
    await store.save(new Adoption().saved());
    expect((await store.load()).adopted).toEqual([]);
    expect(log.lines).toHaveLength(1);
  });

  it('logs, and does not throw, when the folder cannot be written', async () => {
    const blocked = join(dir, 'not-a-folder');
    await writeFile(blocked, '');
    const store = new DiscoveredStore(blocked, log);
    await store.save(new Adoption().saved());
    await store.flush();
    expect(log.text()).toMatch(
      /cannot save the discovered devices .* check the data folder is writable/,
    );
  });
});
