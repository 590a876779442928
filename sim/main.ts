/**
 * `vigil sim`: run a simulated site until SIGINT or SIGTERM. Parses options, starts the
 * SimSite, prints one ready line; nothing else lives here.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { simRoutes } from '../shared/api/sim.js';
import { VigilError } from '../shared/errors.js';
import { checkSiteOptions, SimSite, type SimSiteOptions } from './site.js';

const USAGE = `usage: vigil sim [options]

  --control-port N       control API port (default: env SIM_CONTROL_PORT, else 8090; 0 = free port)
  --host ADDRESS         address of every device and the control API (default 127.0.0.1)
  --cameras N            number of cameras (default 24)
  --nvrs N               number of NVRs (default 2)
  --channels N           channels per NVR (default 16)
  --site-id ID           site id (default demo-site)
  --seed TEXT            changes serial numbers and firmware of the whole fleet
  --device-port-base N   device n listens on N + n (default: free ports)
  --rtsp-port N          RTSP port in the stream URIs (default 8554)
  -h, --help             show this help

Devices accept the user VIGIL_SIM_USERNAME (default admin) with the password
VIGIL_SIM_PASSWORD; without it a password is generated and printed once.`;

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
        cameras: { type: 'string' },
        nvrs: { type: 'string' },
        channels: { type: 'string' },
        'site-id': { type: 'string' },
        seed: { type: 'string' },
        'device-port-base': { type: 'string' },
        'rtsp-port': { type: 'string' },
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
  const password = env['VIGIL_SIM_PASSWORD'];
  const generatedPassword = !password;
  const options: SimSiteOptions = {
    controlPort: integer(
      '--control-port',
      values['control-port'] ?? env['SIM_CONTROL_PORT'] ?? '8090',
    ),
    host: values.host,
    cameras: integer('--cameras', values.cameras),
    nvrs: integer('--nvrs', values.nvrs),
    nvrChannels: integer('--channels', values.channels),
    siteId: values['site-id'],
    seed: values.seed,
    devicePortBase: integer('--device-port-base', values['device-port-base']),
    rtspPort: integer('--rtsp-port', values['rtsp-port']),
    credentials: {
      username: env['VIGIL_SIM_USERNAME'] || 'admin',
      password: password || randomBytes(12).toString('base64url'),
    },
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
  const count = site.devices().length;
  console.log(
    `sim: ${count} devices of site ${site.siteId}, control API ${site.controlUrl}${simRoutes.devices}`,
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
