/**
 * Debian's onvif-util (package onvif-tools) believes the simulator: it finds a camera
 * only through WS-Discovery multicast and never loops multicast back to its own host, so
 * the simulator runs as a real `vigil sim` process inside a network namespace made here
 * (ip netns + a veth pair). onvif-util discovers the camera, logs in, and reads
 * `get capabilities` and `get profiles`. Needs root (CI runs as root); skipped with the
 * reason when `ip netns add` is refused or onvif-util is missing, failed instead in CI
 * (test/helpers/requires.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vigilEntry } from '../helpers/demo.js';
import { built, netns, onvifUtil, skipReason, titled } from '../helpers/requires.js';

const tag = String(process.pid % 100_000);
const NS = `vigilsim${tag}`;
const HOST_IF = `vsh${tag}`;
const NS_IF = `vsn${tag}`;
const octet = 10 + (process.pid % 200);
const HOST_IP = `10.231.${octet}.1`;
const SIM_IP = `10.231.${octet}.2`;
const PASSWORD = 'onvif-util pw';

function run(args: string[]): { ok: boolean; error: string } {
  const result = spawnSync(args[0] ?? '', args.slice(1), { encoding: 'utf8' });
  return { ok: result.status === 0, error: `${args.join(' ')}: ${result.stderr || result.error}` };
}

const reason = skipReason(onvifUtil, built, netns);
let sim: ChildProcess | null = null;
let simOutput = '';

function cleanUp(): void {
  if (sim && sim.exitCode === null) sim.kill('SIGKILL');
  // Deleting the namespace deletes its end of the veth pair and so the pair and the
  // host route through it; the link delete is for a setup that failed half way.
  run(['ip', 'netns', 'del', NS]);
  run(['ip', 'link', 'del', HOST_IF]);
}

describe.skipIf(reason !== null)(titled('onvif-util against a simulated camera', reason), () => {
  beforeAll(async () => {
    try {
      const steps = [
        ['ip', 'netns', 'add', NS],
        ['ip', 'link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', NS_IF],
        ['ip', 'link', 'set', NS_IF, 'netns', NS],
        ['ip', 'addr', 'add', `${HOST_IP}/24`, 'dev', HOST_IF],
        ['ip', 'link', 'set', HOST_IF, 'up'],
        ['ip', '-n', NS, 'addr', 'add', `${SIM_IP}/24`, 'dev', NS_IF],
        ['ip', '-n', NS, 'link', 'set', NS_IF, 'up'],
        ['ip', '-n', NS, 'link', 'set', 'lo', 'up'],
        // Multicast in the namespace leaves (and is joined) through the veth; on the host
        // the WS-Discovery group is routed into the veth so onvif-util's probe reaches it.
        ['ip', '-n', NS, 'route', 'add', '224.0.0.0/4', 'dev', NS_IF],
        ['ip', 'route', 'add', '239.255.255.250/32', 'dev', HOST_IF],
      ];
      for (const step of steps) {
        const result = run(step);
        if (!result.ok) throw new Error(result.error);
      }
      sim = spawn(
        'ip',
        [
          'netns',
          'exec',
          NS,
          process.execPath,
          vigilEntry,
          'sim',
          '--host',
          SIM_IP,
          '--cameras',
          '1',
          '--nvrs',
          '0',
          '--control-port',
          '0',
          '--rtsp-port',
          '0',
        ],
        {
          env: { ...process.env, VIGIL_SIM_PASSWORD: PASSWORD },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      sim.stdout?.on('data', (chunk: Buffer) => (simOutput += chunk.toString()));
      sim.stderr?.on('data', (chunk: Buffer) => (simOutput += chunk.toString()));
      const started = Date.now();
      while (!simOutput.includes('control API')) {
        if (sim.exitCode !== null || Date.now() - started > 20_000) {
          throw new Error(`the simulator did not start in the namespace:\n${simOutput}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } catch (error) {
      cleanUp();
      throw error;
    }
  });

  afterAll(() => cleanUp());

  it('discovers the camera, logs in, reads capabilities, profiles and a stream URI', async () => {
    const util = spawn('onvif-util', ['-u', 'admin', '-p', PASSWORD, SIM_IP], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    util.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    util.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    util.stdin.write('get capabilities\nget profiles\nget rtsp\nquit\n');
    util.stdin.end();
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => util.kill('SIGKILL'), 30_000);
      util.once('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    expect(output, output).toContain(`found host: ${SIM_IP}`);
    expect(output).toContain('successfully connected to host');
    expect(output).toMatch(/serial: VS\w+/);
    // get capabilities: the service addresses it keeps; get profiles: the tokens.
    expect(output).toContain('event_service:   POST /onvif/events_service');
    expect(output).toContain('Token 0: main');
    expect(output).toContain('Token 1: sub');
    expect(output).toMatch(new RegExp(`rtsp://${SIM_IP.replace(/\./g, '\\.')}:\\d+/cam-01/main`));
    expect(output).not.toContain('ERROR');
    expect(code).toBe(0);
  });
});
