/**
 * The restore drill of docs/BACKUP.md with whole processes, as an operator runs it: a
 * broker process (`vigil broker`) with a site, a ticket, a user and an agent publishing
 * readings; `vigil backup` run as its own process while the broker takes that load;
 * `vigil restore` into a fresh data folder; a second broker process there serves the same
 * site, ticket and user, and accepts the agent's password (its hashed credentials came
 * along). Build first (`npm test` does).
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'mqtt';
import {
  addAgents,
  LoadAgent,
  startBrokerProcess,
  vigilEntry,
  writeBrokerConfig,
  type BrokerProcess,
} from '../helpers/broker-process.js';
import { freePorts } from '../helpers/ports.js';
import { built, need } from '../helpers/requires.js';
import { tempDir, type TempDir } from '../helpers/temp.js';

const ADMIN_PASSWORD = 'e2e-admin-password'; // what startBrokerProcess gives the broker

/** `node dist/cli/vigil.js ...argv` as a process: exit code and output. */
function vigil(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [vigilEntry, ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

async function login(base: string, username: string, password: string): Promise<string> {
  const response = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (response.status !== 200) throw new Error(`login of ${username}: HTTP ${response.status}`);
  return ((await response.json()) as { token: string }).token;
}

async function call(base: string, token: string, method: string, path: string, body?: object) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

describe('backup of a running broker process, restored and served by another', () => {
  let work: TempDir;
  const running: BrokerProcess[] = [];

  beforeAll(async () => {
    need(built);
    work = await tempDir('vigil-e2e-backup-');
  });
  afterAll(async () => {
    for (const broker of running) await broker.kill('SIGTERM');
    await work?.remove();
  });

  it('serves the same site, ticket, user and agent account after the drill', async () => {
    const [mqttA, httpA, mqttB, httpB] = (await freePorts(4)) as [number, number, number, number];
    const dataA = join(work.path, 'a');
    await mkdir(dataA);
    const [agent] = await addAgents(dataA, 'plant-7', ['gw-01']);
    const configA = await writeBrokerConfig(dataA, {
      mqtt: { host: '127.0.0.1', port: mqttA },
      http: { host: '127.0.0.1', port: httpA },
    });
    const a = await startBrokerProcess(configA);
    running.push(a);
    const baseA = `http://127.0.0.1:${httpA}`;
    const admin = await login(baseA, 'admin', ADMIN_PASSWORD);
    expect(
      (await call(baseA, admin, 'PUT', '/api/sites/plant-7', { name: 'Plant 7' })).status,
    ).toBe(200);
    const ticket = await call(baseA, admin, 'POST', '/api/tickets', {
      siteId: 'plant-7',
      title: 'The gate camera is blurred',
      description: 'The guard called at 09:10.',
    });
    expect(ticket.status).toBe(201);
    expect(
      (
        await call(baseA, admin, 'PUT', '/api/users/olga', {
          role: 'operator',
          password: 'olga password 1',
        })
      ).status,
    ).toBe(200);

    // The agent keeps publishing while the backup runs: 100 readings a second.
    const load = new LoadAgent(`mqtt://127.0.0.1:${mqttA}`, agent!, Date.now() - 60_000, 10);
    load.start();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const out = join(work.path, 'backup');
    const made = await vigil('backup', '--config', configA, '--out', out);
    await load.drain(10_000);
    await load.stop();
    expect(made.err).toBe('');
    expect(made.code).toBe(0);
    expect(made.out).toMatch(/sqlite {4}vigil\.db/);
    expect(made.out).toMatch(/sqlite {4}metrics\.db/);
    expect(load.acked.size).toBeGreaterThan(100);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as {
      vigilVersion: string;
    };
    expect(manifest.vigilVersion).toMatch(/^\d+\.\d+\.\d+/);

    // Restore into a fresh folder, with its own config (other ports), and start there.
    const dataB = join(work.path, 'b');
    await mkdir(dataB);
    const configB = await writeBrokerConfig(dataB, {
      mqtt: { host: '127.0.0.1', port: mqttB },
      http: { host: '127.0.0.1', port: httpB },
    });
    const restored = await vigil('restore', '--from', out, '--config', configB);
    expect(restored.err).toBe('');
    expect(restored.code).toBe(0);
    const b = await startBrokerProcess(configB);
    running.push(b);
    const baseB = `http://127.0.0.1:${httpB}`;
    const adminB = await login(baseB, 'admin', ADMIN_PASSWORD);
    expect((await call(baseB, adminB, 'GET', '/api/sites/plant-7')).json).toMatchObject({
      name: 'Plant 7',
    });
    const ticketB = await call(baseB, adminB, 'GET', `/api/tickets/${String(ticket.json.id)}`);
    expect(ticketB.json).toMatchObject({ title: 'The gate camera is blurred' });
    expect(await login(baseB, 'olga', 'olga password 1')).toEqual(expect.any(String));

    // The agent's hashed credentials came along: the restored broker accepts its password.
    const client = connect(`mqtt://127.0.0.1:${mqttB}`, {
      username: agent!.username,
      password: agent!.password,
      clientId: agent!.username,
      reconnectPeriod: 0,
    });
    client.on('error', () => {});
    const accepted = await new Promise<boolean>((resolve) => {
      client.once('connect', () => resolve(true));
      client.once('close', () => resolve(false));
    });
    await client.endAsync(true);
    expect(accepted).toBe(true);

    // And a restore over the running broker B is refused, naming what to do.
    const over = await vigil('restore', '--from', out, '--config', configB, '--force');
    expect(over.code).toBe(1);
    expect(over.err).toContain('VIGIL_RESTORE_REFUSED');
    expect(over.err).toContain('is open in a running process');
  }, 120_000);
});
