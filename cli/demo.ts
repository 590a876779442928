/**
 * `vigil demo`: the whole system on one machine, each part as its own process, wired
 * the way an installation wires them: a simulated site (24 cameras, 2 NVRs), the broker
 * with the console, and an agent watching the site.
 *
 * `vigil demo site --broker URL`: only the simulated site and its agent, for a broker
 * elsewhere (docker-compose.yml uses it).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { VigilError } from '../shared/errors.js';
import { startChild, type Child } from './children.js';

const SITE_ID = 'demo-site';
const AGENT_ID = 'gw-01';
const READY_MS = 60_000;

interface SimDevice {
  id: string;
  kind: 'camera' | 'nvr';
  name: string;
  xaddr: string;
  credentials: { username: string; password: string };
  /** The vendor API's own account, where the site file keeps it apart (sim/README.md). */
  vendorCredentials?: { username: string; password: string };
}

function secret(): string {
  return randomBytes(12).toString('base64url');
}

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new VigilError('VIGIL_CONFIG_INVALID', `${name}=${raw} is not a TCP port`, [
      `${name}: use a number from 1 to 65535`,
    ]);
  }
  return port;
}

/** Files holding secrets are readable by their owner only. */
function writePrivate(file: string, content: string): void {
  writeFileSync(file, content, { mode: 0o600 });
}

async function fetchSimDevices(controlUrl: string): Promise<SimDevice[]> {
  const response = await fetch(`${controlUrl}/sim/devices`);
  if (!response.ok)
    throw new Error(`the simulator answered ${response.status} to GET /sim/devices`);
  return (await response.json()) as SimDevice[];
}

class Demo {
  private readonly children: Child[] = [];
  private stopping = false;

  async startChild(
    name: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    ready: RegExp,
  ): Promise<string> {
    const child = startChild(name, args, env);
    this.children.push(child);
    child.process.once('exit', (code) => {
      if (this.stopping) return;
      console.error(`[demo]   ${name} stopped unexpectedly (exit code ${code}); stopping the demo`);
      void this.stop(1);
    });
    return child.waitFor(ready, READY_MS);
  }

  /** Runs a one-shot `vigil` command and waits for it to succeed. */
  async runOnce(name: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
    const child = startChild(name, args, env);
    const code = await new Promise<number | null>((done) => child.process.once('exit', done));
    if (code !== 0) throw new Error(`${name} failed with exit code ${code}; see its output above`);
  }

  async stop(exitCode = 0): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    // The agent first, so its shutdown message reaches the broker; the simulator last.
    for (const child of [...this.children].reverse()) await child.stop();
    process.exit(exitCode);
  }

  handleSignals(): void {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        console.log(`[demo]   ${signal}: stopping`);
        void this.stop(0);
      });
    }
  }

  /** Starts the simulator and an agent watching it; returns the simulator's control URL. */
  async startSite(options: {
    dataDir: string;
    brokerUrl: string;
    agentPassword: string;
    siteId: string;
    agentId: string;
  }): Promise<string> {
    const controlPort = portFromEnv('SIM_CONTROL_PORT', 8090);
    // The gateway's temperature as a Linux thermal zone gives it: the simulator writes it
    // (POST /sim/gateway/faults heats it), the agent reads it (gateway.temperatureFile).
    const temperatureFile = join(options.dataDir, 'gateway-temperature');
    // The site file: `demo` has faults that come and go on their own; tests choose `calm`.
    const siteFile = process.env.VIGIL_DEMO_SITE || 'demo';
    await this.startChild(
      'sim',
      [
        'sim',
        '--site',
        siteFile,
        '--site-id',
        options.siteId,
        '--control-port',
        String(controlPort),
        // Any free RTSP port: 8554 may be taken by a real RTSP server on this machine.
        '--rtsp-port',
        '0',
        '--gateway-temperature-file',
        temperatureFile,
      ],
      { VIGIL_SIM_USERNAME: 'admin', VIGIL_SIM_PASSWORD: secret() },
      /control API/,
    );
    const controlUrl = `http://127.0.0.1:${controlPort}`;
    const devices = await fetchSimDevices(controlUrl);

    const configFile = join(options.dataDir, 'agent.yaml');
    writePrivate(
      configFile,
      stringify({
        siteId: options.siteId,
        agentId: options.agentId,
        mqtt: {
          url: options.brokerUrl,
          username: `${options.siteId}.${options.agentId}`,
          password: options.agentPassword,
        },
        // Shorter than the 15 s default so the demo shows a failure within seconds.
        polling: { intervalS: 5 },
        gateway: { temperatureFile },
        // The site-wide account is the first device's; a device with another one says so.
        onvif: devices[0]?.credentials ?? { username: 'admin', password: secret() },
        devices: devices.map((d) => ({
          id: d.id,
          name: d.name,
          kind: d.kind,
          xaddr: d.xaddr,
          ...(d.credentials.username !== devices[0]?.credentials.username ||
          d.credentials.password !== devices[0]?.credentials.password
            ? d.credentials
            : {}),
          // Its web account for the vendor driver, as an installer gives it (docs/DRIVERS.md).
          ...(d.vendorCredentials ? { vendor: d.vendorCredentials } : {}),
        })),
      }),
    );
    await this.startChild('agent', ['agent', '--config', configFile], {}, /vigil agent: ready/);
    return controlUrl;
  }
}

async function runAll(): Promise<void> {
  const dataDir = resolve(process.env.VIGIL_DATA_DIR || 'data');
  const demoDir = join(dataDir, 'demo');
  mkdirSync(demoDir, { recursive: true });
  const httpPort = portFromEnv('HTTP_PORT', 8080);
  const mqttPort = portFromEnv('MQTT_PORT', 1883);
  const adminPassword = process.env.VIGIL_ADMIN_PASSWORD || secret();
  const agentPassword = secret();

  const demo = new Demo();
  demo.handleSignals();
  try {
    const brokerConfig = join(demoDir, 'broker.yaml');
    writePrivate(
      brokerConfig,
      stringify({
        dataDir,
        mqtt: { host: '127.0.0.1', port: mqttPort },
        http: { host: '127.0.0.1', port: httpPort },
        ...(process.env.VIGIL_INFLUX_URL ? { influx: { url: process.env.VIGIL_INFLUX_URL } } : {}),
      }),
    );
    // The broker keeps only a hash of the agent's password; the demo sets a new one each run,
    // where the broker reads it: vigil.db, or PostgreSQL with VIGIL_DATABASE_URL (the child
    // inherits the environment, and the config is read as the broker reads it).
    await demo.runOnce(
      'setup',
      [
        'broker',
        'add-agent',
        '--config',
        brokerConfig,
        '--site',
        SITE_ID,
        '--name',
        AGENT_ID,
        '--password-env',
        'VIGIL_AGENT_PASSWORD',
      ],
      { VIGIL_AGENT_PASSWORD: agentPassword },
    );
    await demo.startChild(
      'broker',
      ['broker', '--config', brokerConfig],
      { VIGIL_ADMIN_PASSWORD: adminPassword },
      /broker: MQTT on/,
    );
    const controlUrl = await demo.startSite({
      dataDir: demoDir,
      brokerUrl: `mqtt://127.0.0.1:${mqttPort}`,
      agentPassword,
      siteId: SITE_ID,
      agentId: AGENT_ID,
    });

    const login = process.env.VIGIL_ADMIN_PASSWORD
      ? 'admin / the password in VIGIL_ADMIN_PASSWORD'
      : `admin / ${adminPassword}   (generated for this run; set VIGIL_ADMIN_PASSWORD to choose one)`;
    console.log(
      [
        '',
        'Vigil demo is running.',
        `  Console:        http://localhost:${httpPort}`,
        `  Login:          ${login}`,
        `  Simulator:      ${controlUrl}/sim/devices`,
        `  Switch a camera off:  curl -X POST -H 'content-type: application/json' -d '{"kind":"offline"}' ${controlUrl}/sim/devices/cam-03/faults`,
        `  And back on:          curl -X DELETE ${controlUrl}/sim/devices/cam-03/faults`,
        `  Heat the gateway:     curl -X POST -H 'content-type: application/json' -d '{"kind":"gateway-hot","temperatureC":92}' ${controlUrl}/sim/gateway/faults`,
        '  Stop with Ctrl-C.',
        '',
      ].join('\n'),
    );
  } catch (error) {
    console.error(`[demo]   ${error instanceof Error ? error.message : String(error)}`);
    await demo.stop(1);
  }
}

async function runSite(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      broker: { type: 'string' },
      site: { type: 'string', default: SITE_ID },
      agent: { type: 'string', default: AGENT_ID },
    },
    strict: true,
  });
  const agentPassword = process.env.VIGIL_AGENT_PASSWORD;
  const problems: string[] = [];
  if (!values.broker) problems.push('--broker: required, e.g. mqtt://broker:1883');
  if (!agentPassword) problems.push("VIGIL_AGENT_PASSWORD: required (the agent's MQTT password)");
  if (problems.length > 0 || !values.broker || !agentPassword) {
    throw new VigilError('VIGIL_CONFIG_INVALID', 'vigil demo site cannot start', problems);
  }
  const dataDir = join(resolve(process.env.VIGIL_DATA_DIR || 'data'), 'demo-site');
  mkdirSync(dataDir, { recursive: true });
  const demo = new Demo();
  demo.handleSignals();
  try {
    const controlUrl = await demo.startSite({
      dataDir,
      brokerUrl: values.broker,
      agentPassword,
      siteId: values.site,
      agentId: values.agent,
    });
    console.log(
      `[demo]   site ${values.site} is running; simulator control API ${controlUrl}/sim/devices`,
    );
  } catch (error) {
    console.error(`[demo]   ${error instanceof Error ? error.message : String(error)}`);
    await demo.stop(1);
  }
}

export async function main(argv: string[]): Promise<void> {
  const [mode, ...rest] = argv;
  if (mode === 'site') return runSite(rest);
  if (mode !== undefined) {
    throw new VigilError('VIGIL_CONFIG_INVALID', `unknown demo mode "${mode}"`, [
      'use `vigil demo` for the whole system or `vigil demo site --broker URL` for a site only',
    ]);
  }
  return runAll();
}
