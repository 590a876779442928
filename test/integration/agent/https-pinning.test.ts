/**
 * HTTPS device services against the simulator (a self-signed certificate per device, and
 * the cert-changed fault), a real broker and real files: the agent pins each device's
 * certificate on first contact, keeps the pin across a restart, refuses a changed one
 * without sending it a byte of HTTP (degraded, certificate-changed, both fingerprints),
 * and polls it again once an operator accepts it through the API (answered at once, audited
 * in SQLite as accepted even when the device is slow to poll); with
 * a CA file it verifies the chain instead and refuses a certificate of another CA.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from '../../../agent/agent.js';
import { loadConfig } from '../../../agent/config.js';
import { MemoryLogger } from '../../../agent/log.js';
import { main } from '../../../agent/main.js';
import { endpointOfUrl } from '../../../agent/onvif/device-tls.js';
import { PINS_FILE } from '../../../agent/tls-pins.js';
import { AuditStore } from '../../../broker/audit-trail.js';
import { openSqlite } from '../../../broker/sql/sqlite.js';
import { commandPath } from '../../../shared/api/commands.js';
import { makeCerts, type TestCerts } from '../../helpers/certs.js';
import {
  AGENT,
  ONVIF,
  SITE,
  startCommandApi,
  startTestbed,
  writeAgentConfig,
  type Seen,
  type Testbed,
} from './harness.js';

const gateway = { sample: async () => ({ cpuLoadPct: 1, memUsedPct: 1, diskUsedPct: 1 }) };

let bed: Testbed | null = null;
let agent: Agent | null = null;
let certs: TestCerts[] = [];

afterEach(async () => {
  await agent?.stop();
  agent = null;
  await bed?.stop();
  bed = null;
  for (const c of certs) await c.remove();
  certs = [];
});

async function configFile(extra: string[] = []): Promise<string> {
  if (!bed) throw new Error('no testbed');
  return writeAgentConfig(bed.dir.path, bed.broker.url, bed.site.devices(), {
    extra: ['checks:', '  frozenPolls: 20', ...extra],
  });
}

async function startAgent(extra: string[] = []): Promise<Agent> {
  const path = await configFile(extra);
  agent = new Agent({ config: await loadConfig(path), log: new MemoryLogger(), gateway });
  await agent.start();
  return agent;
}

/** The latest state message of a device, once it matches. */
function stateOf(id: string, status: string, since = 0): Promise<Seen> {
  if (!bed) throw new Error('no testbed');
  return bed.watcher.waitFor(
    (m) =>
      m.parsed.kind === 'deviceState' && m.payload.deviceId === id && m.payload.status === status,
    { since, timeoutMs: 15_000 },
  );
}

type PinOnDisk = { fingerprint: string; how: string; history: unknown[] };

/** The pin file's pins, by device id, at each device's service address (its xaddr). */
async function pinsOnDisk(): Promise<Record<string, PinOnDisk | undefined>> {
  if (!bed) throw new Error('no testbed');
  const file = JSON.parse(await readFile(join(bed.dir.path, PINS_FILE), 'utf8')) as {
    devices: Record<string, Record<string, PinOnDisk>>;
  };
  return Object.fromEntries(
    bed.site
      .devices()
      .filter((d) => d.xaddr.startsWith('https:'))
      .map((d) => [d.id, file.devices[d.id]?.[endpointOfUrl(d.xaddr)]]),
  );
}

/** `vigil agent ARGS` in this process: what it printed, on stderr, and its exit status. */
async function vigilAgent(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  process.exitCode = undefined;
  await main(args, {
    log: new MemoryLogger(),
    signals: { on: () => undefined },
    exit: () => undefined,
    print: (t) => out.push(t),
    printError: (t) => err.push(t),
  });
  const code = process.exitCode;
  process.exitCode = undefined;
  return { out: out.join('\n'), err: err.join('\n'), code };
}

describe('HTTPS device services', () => {
  it('trust on first use: pinned, kept across a restart, a changed certificate refused and named, accepted through the API with an audit row', async () => {
    bed = await startTestbed({
      devices: [
        { kind: 'camera', channels: 1, https: true },
        { kind: 'camera', channels: 1 },
      ],
      seed: 3,
    });
    const [secure, plain] = bed.site.devices();
    expect(secure?.xaddr).toMatch(/^https:\/\//);
    const original = secure?.tlsFingerprint;
    expect(original).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);

    // First contact: the device is polled over HTTPS and its certificate pinned.
    await startAgent();
    await stateOf('cam-01', 'up');
    await stateOf('cam-02', 'up');
    expect((await pinsOnDisk())['cam-01']).toMatchObject({
      fingerprint: original,
      how: 'first-use',
    });
    expect((await pinsOnDisk())['cam-02']).toBeUndefined();

    // A restart keeps the pin: the same certificate is still accepted, nothing re-pinned.
    await agent?.stop();
    const restartedAt = Date.now();
    await startAgent();
    await stateOf('cam-01', 'up', restartedAt);
    expect((await pinsOnDisk())['cam-01']).toMatchObject({
      fingerprint: original,
      how: 'first-use',
    });

    // The device presents a new certificate: refused, degraded, both fingerprints named.
    const changedAt = Date.now();
    const faulted = await bed.site.setFault('cam-01', { kind: 'cert-changed' });
    const presented = faulted.tlsFingerprint;
    expect(presented).not.toBe(original);
    const refused = await bed.watcher.waitFor(
      (m) =>
        m.parsed.kind === 'deviceState' &&
        m.payload.deviceId === 'cam-01' &&
        m.payload.status === 'degraded' &&
        JSON.stringify(m.payload.reasons).includes('certificate-changed'),
      { since: changedAt, timeoutMs: 15_000 },
    );
    const reasons = refused.payload.reasons as {
      code: string;
      message: string;
      certificate?: unknown;
    }[];
    expect(reasons).toEqual([
      expect.objectContaining({
        code: 'certificate-changed',
        certificate: { pinned: original, presented },
      }),
    ]);
    expect(reasons[0]?.message).toContain(original);
    expect(reasons[0]?.message).toContain(presented);
    // Nothing is exchanged with it any more: no request reaches the device after the
    // refusal, though the agent keeps polling it (1 s polls).
    await new Promise((r) => setTimeout(r, 2500));
    expect(bed.site.requests('cam-01').filter((r) => Date.parse(r.at) > refused.at)).toEqual([]);
    // The other camera is not concerned.
    expect(agent?.statuses()['cam-02']).toBe('up');
    expect(plain?.tlsFingerprint).toBeUndefined();

    // The NOC's side: the API route, the command over MQTT, and the audit trail in SQLite.
    const db = openSqlite(join(bed.dir.path, 'vigil.db'));
    const audit = new AuditStore(db);
    await audit.start();
    const { app, stop } = await startCommandApi(bed.broker.url, audit);
    try {
      const trust = (fingerprint: string) =>
        app.inject({
          method: 'POST',
          url: commandPath(SITE, AGENT),
          headers: { 'x-role': 'operator' },
          payload: { command: 'trust-certificate', deviceId: 'cam-01', fingerprint },
        });
      // A fingerprint the device does not present is not accepted.
      const wrong = await trust(`${'00:'.repeat(31)}00`);
      expect(wrong.json()).toMatchObject({ ok: false });
      expect(String(wrong.json().error)).toContain(presented);

      // The device answers slowly now (0.3 s an answer, a poll of several seconds): the
      // answer comes right after the pin is written, within the route's 2 s wait, and does
      // not wait for the poll with the new pin, which the NOC sees as the next state.
      await bed.site.setFault('cam-01', { kind: 'slow', delayMs: 300 });
      const acceptedAt = Date.now();
      const answer = await app.inject({
        method: 'POST',
        url: commandPath(SITE, AGENT),
        headers: { 'x-role': 'operator' },
        payload: {
          command: 'trust-certificate',
          deviceId: 'cam-01',
          fingerprint: presented ?? '',
          waitS: 2,
        },
      });
      expect(answer.statusCode).toBe(200);
      expect(answer.json()).toMatchObject({
        ok: true,
        result: { trusted: { deviceId: 'cam-01', previous: original, accepted: presented } },
      });
      await bed.site.clearFaults('cam-01', 'slow');
      await stateOf('cam-01', 'up', acceptedAt);
      expect((await pinsOnDisk())['cam-01']).toMatchObject({
        fingerprint: presented,
        how: 'accepted',
        history: [
          expect.objectContaining({ by: 'noc:alice', previous: original, accepted: presented }),
        ],
      });
      const rows = await audit.list({ target: `device:${SITE}/cam-01` });
      expect(rows.map((r) => [r.actor, r.action])).toEqual([
        ['alice', 'device.trust-certificate'],
        ['alice', 'device.trust-certificate'],
      ]);
      expect(JSON.parse(rows[0]?.detail ?? '{}')).toMatchObject({
        agent: AGENT,
        fingerprint: presented,
        previous: original,
        ok: true,
      });
      expect(JSON.parse(rows[1]?.detail ?? '{}')).toMatchObject({ ok: false });
    } finally {
      await stop();
      await db.close();
    }
  });

  it('vigil agent trust on the gateway: shows both fingerprints, accepts only the presented one, and the running agent polls again', async () => {
    bed = await startTestbed({ devices: [{ kind: 'camera', channels: 1, https: true }], seed: 5 });
    const path = await configFile();
    await startAgent();
    await stateOf('cam-01', 'up');
    const original = bed.site.devices()[0]?.tlsFingerprint ?? '';
    const changedAt = Date.now();
    const presented = (await bed.site.setFault('cam-01', { kind: 'cert-changed' })).tlsFingerprint;
    await stateOf('cam-01', 'degraded', changedAt);

    const run = (...args: string[]) => vigilAgent('trust', 'cam-01', '--config', path, ...args);
    // A look first: both fingerprints, nothing accepted.
    const look = await run();
    expect(look.out).toContain(`pinned:    ${original}`);
    expect(look.out).toContain(`presented: ${presented}`);
    expect(look.code).toBe(3);
    expect((await pinsOnDisk())['cam-01']?.fingerprint).toBe(original);
    // Another fingerprint than the presented one: refused.
    const wrong = await run('--fingerprint', original);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain('nothing accepted');
    // The presented one: accepted, recorded with who; the running agent takes it up.
    const acceptedAt = Date.now();
    const ok = await run('--fingerprint', presented ?? '');
    expect(ok.code ?? 0).toBe(0);
    expect((await pinsOnDisk())['cam-01']).toMatchObject({
      fingerprint: presented,
      how: 'accepted',
      history: [expect.objectContaining({ previous: original, accepted: presented })],
    });
    await stateOf('cam-01', 'up', acceptedAt);
  });

  it('vigil agent check of an https device: credentials only to the certificate given with --fingerprint; without it, a look without credentials and the fingerprint to give back', async () => {
    bed = await startTestbed({ devices: [{ kind: 'camera', channels: 1, https: true }], seed: 6 });
    const [camera] = bed.site.devices();
    const fingerprint = camera?.tlsFingerprint ?? '';
    const check = (...extra: string[]) =>
      vigilAgent(
        'check',
        camera?.xaddr ?? '',
        '--user',
        ONVIF.username,
        '--password',
        ONVIF.password,
        ...extra,
      );
    // No certificate confirmed: the device is asked its time without credentials, and the
    // engineer is told its fingerprint and how to go on.
    const look = await check();
    expect(look.code).toBe(5);
    expect(look.out).toContain(`HTTPS certificate SHA-256 ${fingerprint}`);
    expect(look.out).toContain(`run again with --fingerprint ${fingerprint}`);
    const asked = bed.site.requests('cam-01');
    expect(asked.map((r) => r.operation)).toEqual(['GetSystemDateAndTime']);
    expect(asked.some((r) => r.authenticated)).toBe(false);

    // Another certificate than the one given: refused before any request.
    const other = `${'00:'.repeat(31)}00`;
    const refused = await check('--fingerprint', other, '--json');
    expect(refused.out).toContain('certificate-untrusted');
    expect(refused.out).toContain(fingerprint);
    expect(refused.code).not.toBe(0);
    expect(bed.site.requests('cam-01')).toHaveLength(asked.length);

    // The certificate given (any case): checked with the credentials.
    const { out, code } = await check('--fingerprint', fingerprint.toLowerCase(), '--json');
    const result = JSON.parse(out) as { status: string; tlsFingerprint?: string };
    expect(result).toMatchObject({ status: 'up', tlsFingerprint: fingerprint });
    expect(code).toBe(0);
    expect(bed.site.requests('cam-01').some((r) => r.authenticated)).toBe(true);
    await expect(readFile(join(bed.dir.path, PINS_FILE), 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('with a CA file: a certificate of that CA is verified and trusted, one of another CA refused', async () => {
    const ca = await makeCerts({ caName: 'Site CA' });
    const other = await makeCerts({ caName: 'Site CA' });
    certs.push(ca, other);
    bed = await startTestbed({
      devices: [
        {
          kind: 'camera',
          channels: 1,
          https: {
            cert: await readFile(ca.certFile, 'utf8'),
            key: await readFile(ca.keyFile, 'utf8'),
          },
        },
        {
          kind: 'camera',
          channels: 1,
          https: {
            cert: await readFile(other.certFile, 'utf8'),
            key: await readFile(other.keyFile, 'utf8'),
          },
        },
      ],
      seed: 4,
    });
    await startAgent(['tls:', `  caFile: ${ca.caFile}`]);
    await stateOf('cam-01', 'up');
    const refused = await stateOf('cam-02', 'degraded');
    expect(refused.payload.reasons).toEqual([
      expect.objectContaining({ code: 'certificate-untrusted' }),
    ]);
    expect(bed.site.requests('cam-02')).toEqual([]);
    // Chain verification, not pinning: nothing was pinned.
    await expect(readFile(join(bed.dir.path, PINS_FILE), 'utf8')).rejects.toThrow(/ENOENT/);
  });
});
