/**
 * `vigil sim`: run a simulated site until SIGINT or SIGTERM. Parses options, starts the
 * SimSite, prints one ready line; nothing else lives here.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { simRoutes } from '../shared/api/sim.js';
import { VigilError } from '../shared/errors.js';
import { DISCOVERY_PORT } from './discovery.js';
import { loadScenario } from './scenario.js';
import { checkSiteOptions, SimSite, type SimSiteOptions } from './site.js';

const USAGE = `usage: vigil sim [options]

  --site FILE            a site file (layout, personalities, timed faults), e.g.
                         sim/scenarios/demo.yaml, or a name in sim/scenarios ("calm")
  --control-port N       control API port (default: env SIM_CONTROL_PORT, else 8090; 0 = free port)
  --host ADDRESS         address of every device and the control API (default 127.0.0.1)
  --control-host ADDRESS address of the control API alone (default: env SIM_CONTROL_HOST,
                         else --host); 0.0.0.0 publishes it from a container
  --cameras N            number of cameras (default 24; not with --site)
  --nvrs N               number of NVRs (default 2)
  --channels N           channels per NVR (default 16)
  --site-id ID           site id (default demo-site)
  --seed TEXT            changes serial numbers and firmware of the whole fleet
  --device-port-base N   device n listens on N + n (default: free ports)
  --rtsp-port N          RTSP port (default: env SIM_RTSP_PORT, else 8554; 0 = free port)
  --discovery-port N     WS-Discovery UDP port (default 3702; 0 = no discovery)
  --discovery-address A  address the discovery socket binds (default 0.0.0.0)
  --gateway-temperature-file FILE
                         play the site gateway's temperature in FILE (millidegrees, as
                         /sys/class/thermal/thermal_zone0/temp); heat it through
                         POST /sim/gateway/faults {"kind":"gateway-hot"}
  -h, --help             show this help

Devices accept the user VIGIL_SIM_USERNAME (default admin) with the password
VIGIL_SIM_PASSWORD (a site file's credentials win); without either a password is
generated and printed once. GET /sim/devices lists every device's credentials.`;

export type ParsedArgs =
  | { ok: true; help: false; options: SimSiteOptions; generatedPassword: boolean }
  | { ok: true; help: true }
  | { ok: false; errors: string[] };

/** Turns argv and the environment into SimSite options, reporting every error. */
export function parseSimArgs(argv: string[], env: NodeJS.ProcessEnv): ParsedArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        'control-port': { type: 'string' },
        host: { type: 'string' },
        'control-host': { type: 'string' },
        cameras: { type: 'string' },
        nvrs: { type: 'string' },
        channels: { type: 'string' },
        'site-id': { type: 'string' },
        seed: { type: 'string' },
        'device-port-base': { type: 'string' },
        'rtsp-port': { type: 'string' },
        site: { type: 'string' },
        'discovery-port': { type: 'string' },
        'discovery-address': { type: 'string' },
        'gateway-temperature-file': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    return { ok: false, errors: [error instanceof Error ? error.message : String(error)] };
  }
  if (values.help) return { ok: true, help: true };

  const errors: string[] = [];
  const integer = (name: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    if (!/^\d+$/.test(text)) {
      errors.push(`${name}: expected a whole number, got "${text}"`);
      return undefined;
    }
    return Number(text);
  };
  let scenario;
  if (values.site !== undefined) {
    for (const flag of ['cameras', 'nvrs', 'channels'] as const) {
      if (values[flag] !== undefined) errors.push(`--${flag}: not with --site (the file says)`);
    }
    const loaded = loadScenario(values.site);
    if (!loaded.ok) return { ok: false, errors: [...errors, ...loaded.errors] };
    scenario = loaded.scenario;
  }
  const password = scenario?.credentials?.password ?? env['VIGIL_SIM_PASSWORD'];
  const generatedPassword = !password;
  const discoveryPort = integer(
    '--discovery-port',
    values['discovery-port'] ?? String(DISCOVERY_PORT),
  );
  const options: SimSiteOptions = {
    controlPort: integer(
      '--control-port',
      values['control-port'] ?? env['SIM_CONTROL_PORT'] ?? '8090',
    ),
    host: values.host,
    ...((values['control-host'] ?? env['SIM_CONTROL_HOST'])
      ? { controlHost: values['control-host'] ?? env['SIM_CONTROL_HOST'] }
      : {}),
    cameras: integer('--cameras', values.cameras),
    nvrs: integer('--nvrs', values.nvrs),
    nvrChannels: integer('--channels', values.channels),
    siteId: values['site-id'] ?? scenario?.siteId,
    seed: values.seed ?? scenario?.seed,
    devicePortBase: integer('--device-port-base', values['device-port-base']),
    rtspPort: integer('--rtsp-port', values['rtsp-port'] ?? env['SIM_RTSP_PORT'] ?? '8554'),
    credentials: {
      username: scenario?.credentials?.username ?? (env['VIGIL_SIM_USERNAME'] || 'admin'),
      password: password || randomBytes(12).toString('base64url'),
    },
    ...(scenario ? { devices: scenario.devices, timedFaults: scenario.timedFaults } : {}),
    ...(values['gateway-temperature-file']
      ? { gatewayTemperatureFile: resolve(values['gateway-temperature-file']) }
      : {}),
    ...(discoveryPort
      ? {
          discovery: {
            address: values['discovery-address'] ?? '0.0.0.0',
            port: discoveryPort,
            multicast: true,
          },
        }
      : {}),
  };
  if (errors.length === 0) errors.push(...checkSiteOptions(options).map(asOptionError));
  return errors.length > 0
    ? { ok: false, errors }
    : { ok: true, help: false, options, generatedPassword };
}

/** "nvrChannels: must be >= 1" -> "--channels: must be >= 1" */
function asOptionError(error: string): string {
  const flags: Record<string, string> = {
    controlPort: '--control-port',
    nvrChannels: '--channels',
    siteId: '--site-id',
    devicePortBase: '--device-port-base',
    rtspPort: '--rtsp-port',
    devices: '--site',
    cameras: '--cameras',
    nvrs: '--nvrs',
    host: '--host',
  };
  const [path = '', ...rest] = error.split(':');
  const flag = flags[path.trim()];
  return flag ? [flag, ...rest].join(':') : error;
}

export async function main(argv: string[]): Promise<void> {
  const parsed = parseSimArgs(argv, process.env);
  if (!parsed.ok) {
    console.error(`vigil sim: ${parsed.errors.join('\nvigil sim: ')}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (parsed.help) {
    console.log(USAGE);
    return;
  }
  const { options } = parsed;
  if (parsed.generatedPassword) {
    // Printed once, on purpose: without it nobody could log in to the devices.
    console.log(
      `sim: VIGIL_SIM_PASSWORD is not set; the devices' password for this run is ` +
        `${options.credentials.password} (user ${options.credentials.username}). ` +
        'Set VIGIL_SIM_PASSWORD to choose it.',
    );
  }
  const site = new SimSite(options);
  try {
    await site.start();
  } catch (error) {
    if (error instanceof VigilError) console.error(error.describe());
    else console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
    return;
  }
  const devices = site.devices();
  // A thousand-device bench site would drown the terminal; the control API lists them all.
  for (const device of devices.slice(0, 100)) {
    console.log(
      `sim:   ${device.id.padEnd(8)} ${device.kind.padEnd(6)} ${device.xaddr}  ${device.name}` +
        (device.personality === 'standard' ? '' : `  [${device.personality}]`),
    );
  }
  console.log(
    `sim: RTSP on port ${site.rtspPort}` +
      (site.discoveryPort ? `, WS-Discovery on UDP ${site.discoveryPort}` : ', no WS-Discovery'),
  );
  console.log(
    `sim: ${devices.length} devices of site ${site.siteId}, control API ${site.controlUrl}${simRoutes.devices}`,
  );
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (name: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(name);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  console.log(`sim: ${signal}, stopping`);
  await site.stop();
  console.log('sim: stopped');
}
