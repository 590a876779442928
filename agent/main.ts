/**
 * `vigil agent --config FILE`: load the configuration, start the agent, print one ready
 * line, reload on SIGHUP, stop cleanly on SIGINT/SIGTERM. Also the field engineer's tools:
 * `vigil agent discover`, `vigil agent check URL` and `vigil agent trust DEVICE`. Nothing
 * else lives here.
 */
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { Fingerprint } from '../shared/messages/device-state.js';
import { validator } from '../shared/validate.js';
import { Agent } from './agent.js';
import { channelLines } from './behind-nvr.js';
import { checks } from './checks/index.js';
import { DeviceMemory } from './checks/types.js';
import { checkDefaults, loadConfig } from './config.js';
import { jsonLogger, type Logger } from './log.js';
import { OnvifDeviceClient } from './onvif/adapter.js';
import {
  CaTls,
  endpointOfUrl,
  GivenTls,
  ObservedTls,
  presentedFingerprint,
  type DeviceTls,
} from './onvif/device-tls.js';
import { probe } from './onvif/discovery.js';
import { runChecks } from './poll.js';
import { Secret } from './secret.js';
import { PinsLocked, PinStore } from './tls-pins.js';
import { safeUrl } from './uplink.js';
import { vigilVersion } from './version.js';

const USAGE = `usage: vigil agent --config FILE
       vigil agent discover [--address A] [--port P] [--wait S] [--json]
       vigil agent check URL --user U (--password P | --password-file F) [--kind camera|nvr]
                         [--vendor-user U (--vendor-password P | --vendor-password-file F)]
                         [--fingerprint SHA256 | --ca-file F] [--json]
       vigil agent trust DEVICE --config FILE [--fingerprint SHA256]

Polls the ONVIF cameras and NVRs listed in FILE (YAML) and reports to the NOC broker.
SIGHUP reloads FILE; SIGINT or SIGTERM sends what is queued, says goodbye and exits.
  -c, --config FILE   the agent configuration (see agent/README.md)
  -h, --help          show this help

discover: lists the ONVIF devices that answer a WS-Discovery probe (multicast
  239.255.255.250:3702 unless --address/--port), waiting --wait seconds (default 3).
check: runs every health check once against one device (URL = its device service,
  e.g. http://192.0.2.11/onvif/device_service) and prints the result. The password may
  also come from the VIGIL_ONVIF_PASSWORD environment variable (kept out of ps).
  --vendor-user: the device's own (web) account for its vendor API (Hikvision ISAPI,
  Dahua CGI), where the ONVIF user is not one of its web users; its password as for the
  ONVIF one, or from VIGIL_VENDOR_PASSWORD. Without it the vendor API gets --user.
  Exit status: 0 up, 3 degraded, 4 down, 5 not checked. Over https:// the credentials go
  only to a certificate you confirmed: --fingerprint SHA256 (the device's certificate, as
  its web page or label shows it) or --ca-file F (the CA that signed it). Without either,
  check asks the device for its time only (no credentials: ONVIF Core 5.12), prints the
  certificate's SHA-256 and exits 5: compare it, then run again with --fingerprint.
trust: accepts the HTTPS certificate DEVICE (an id of FILE) presents now in place of the
  one the agent pinned (dataDir/tls-pins.json), after its certificate-changed alert. Without
  --fingerprint it prints the pinned and the presented fingerprints and accepts nothing;
  with it, it accepts the presented one if it is that one. The running agent uses the new
  pin at its next poll.`;

const isFingerprint = validator(Fingerprint);

/** The process around the agent; tests pass their own to watch signals and exits. */
export interface MainIo {
  log: Logger;
  /** Where SIGINT, SIGTERM and SIGHUP come from. */
  signals: { on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown };
  exit(code: number): void;
  /** Usage, option errors and the tools' output. */
  print(text: string): void;
  printError(text: string): void;
}

const processIo: MainIo = {
  log: jsonLogger(),
  signals: process,
  exit: (code) => process.exit(code),
  print: (text) => console.log(text),
  printError: (text) => console.error(text),
};

function parse(
  argv: string[],
  options: NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>,
  io: MainIo,
  positionals = false,
): ReturnType<typeof parseArgs> | null {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: positionals });
  } catch (error) {
    io.printError(`vigil agent: ${(error as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return null;
  }
}

export async function main(argv: string[], io: MainIo = processIo): Promise<void> {
  if (argv[0] === 'discover') return discover(argv.slice(1), io);
  if (argv[0] === 'check') return check(argv.slice(1), io);
  if (argv[0] === 'trust') return trust(argv.slice(1), io);
  const parsed = parse(
    argv,
    { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
    io,
  );
  if (!parsed) return;
  const values = parsed.values as { config?: string; help?: boolean };
  if (values.help) {
    io.print(USAGE);
    return;
  }
  if (values.config === undefined) {
    io.printError(`vigil agent: --config FILE is required\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const path = values.config;

  // Throws VIGIL_CONFIG_INVALID with every error by path; cli/vigil.ts prints it, exits 1.
  const config = await loadConfig(path);
  const { log } = io;
  const agent = new Agent({ config, log, version: vigilVersion() });
  await agent.start();
  log.info(
    `vigil agent: ready (site ${config.siteId}, agent ${config.agentId}, ${config.devices.length} device(s), broker ${(config.mqtt.urls ?? [config.mqtt.url]).map(safeUrl).join(', ')})`,
  );

  let stopping = false;
  let reloading: Promise<void> = Promise.resolve();
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // A second signal while stopping: the operator wants out now.
      io.exit(1);
      return;
    }
    stopping = true;
    log.info(`${signal}: stopping (sending what is queued, publishing offline, disconnecting)`);
    reloading
      .then(() => agent.stop())
      .then(
        () => io.exit(0),
        (error: unknown) => {
          log.error(`stopping failed: ${error instanceof Error ? error.message : String(error)}`);
          io.exit(1);
        },
      );
  };
  // SIGHUP: read the file again; a file with errors is refused and the running
  // configuration stays (never run half configured, STYLE habit 4).
  const reload = (): void => {
    if (stopping) return;
    reloading = reloading.then(async () => {
      try {
        const next = await loadConfig(path);
        const how = await agent.reload(next);
        log.info(
          `SIGHUP: configuration ${how === 'applied' ? 'applied' : 'applied with a new broker session'} (${next.devices.length} device(s))`,
        );
      } catch (error) {
        const details =
          error && typeof error === 'object' && 'details' in error && Array.isArray(error.details)
            ? `: ${(error.details as string[]).join('; ')}`
            : '';
        log.error(
          `SIGHUP: the configuration was not reloaded, the previous one stays: ${error instanceof Error ? error.message : String(error)}${details}`,
        );
      }
    });
  };
  io.signals.on('SIGINT', shutdown);
  io.signals.on('SIGTERM', shutdown);
  io.signals.on('SIGHUP', reload);
}

async function discover(argv: string[], io: MainIo): Promise<void> {
  const parsed = parse(
    argv,
    {
      address: { type: 'string' },
      port: { type: 'string' },
      wait: { type: 'string' },
      json: { type: 'boolean' },
    },
    io,
  );
  if (!parsed) return;
  const v = parsed.values as { address?: string; port?: string; wait?: string; json?: boolean };
  const found = await probe({
    ...(v.address ? { address: v.address } : {}),
    ...(v.port ? { port: Number(v.port) } : {}),
    waitMs: Math.round(Number(v.wait ?? 3) * 1000),
  });
  if (v.json) {
    io.print(JSON.stringify(found, null, 2));
    return;
  }
  if (found.length === 0) {
    io.print(
      "no ONVIF device answered; check that this gateway is on the cameras' network and that multicast (UDP 3702) is not filtered",
    );
    return;
  }
  for (const device of found) {
    io.print(
      `${device.xaddr}  ${device.name ?? '(no name)'}  ${device.hardware ?? ''}  ${device.endpoint}`,
    );
  }
}

async function check(argv: string[], io: MainIo): Promise<void> {
  const parsed = parse(
    argv,
    {
      user: { type: 'string', short: 'u' },
      password: { type: 'string', short: 'p' },
      'password-file': { type: 'string' },
      'vendor-user': { type: 'string' },
      'vendor-password': { type: 'string' },
      'vendor-password-file': { type: 'string' },
      kind: { type: 'string' },
      timeout: { type: 'string' },
      'ca-file': { type: 'string' },
      fingerprint: { type: 'string' },
      json: { type: 'boolean' },
    },
    io,
    true,
  );
  if (!parsed) return;
  const v = parsed.values as {
    user?: string;
    password?: string;
    'password-file'?: string;
    'vendor-user'?: string;
    'vendor-password'?: string;
    'vendor-password-file'?: string;
    kind?: string;
    timeout?: string;
    'ca-file'?: string;
    fingerprint?: string;
    json?: boolean;
  };
  const url = parsed.positionals[0];
  let password = v.password ?? process.env.VIGIL_ONVIF_PASSWORD;
  if (v['password-file'])
    password = (await readFile(v['password-file'], 'utf8')).replace(/\r?\n$/, '');
  const kind = v.kind ?? 'camera';
  if (!url || !v.user || password === undefined || (kind !== 'camera' && kind !== 'nvr')) {
    io.printError(`vigil agent check: URL, --user and a password are required\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const fingerprint = v.fingerprint?.toUpperCase();
  const usage = (text: string): void => {
    io.printError(`vigil agent check: ${text}\n\n${USAGE}`);
    process.exitCode = 2;
  };
  // The vendor API's own account, given as the ONVIF one is (docs/DRIVERS.md).
  const vendorUser = v['vendor-user'];
  if (vendorUser === undefined && (v['vendor-password'] ?? v['vendor-password-file'])) {
    return usage('--vendor-password and --vendor-password-file need --vendor-user');
  }
  let vendorPassword: string | undefined;
  if (vendorUser !== undefined) {
    vendorPassword = v['vendor-password'] ?? process.env.VIGIL_VENDOR_PASSWORD;
    if (v['vendor-password-file']) {
      vendorPassword = (await readFile(v['vendor-password-file'], 'utf8')).replace(/\r?\n$/, '');
    }
    if (vendorUser === '' || vendorPassword === undefined) {
      return usage(
        '--vendor-user needs a name and a password (--vendor-password-file F, --vendor-password P or VIGIL_VENDOR_PASSWORD)',
      );
    }
  }
  const vendor =
    vendorUser !== undefined && vendorPassword !== undefined
      ? { vendor: { username: vendorUser, password: new Secret(vendorPassword) } }
      : {};
  if (fingerprint !== undefined && !isFingerprint(fingerprint).ok) {
    return usage(
      `--fingerprint ${v.fingerprint}: a SHA-256 fingerprint is 32 hexadecimal pairs joined by ':' (AB:CD:...), as openssl x509 -fingerprint -sha256 prints it`,
    );
  }
  if (fingerprint !== undefined && v['ca-file']) {
    return usage('--fingerprint and --ca-file are two ways to trust the certificate: give one');
  }
  const timeoutMs = Number(v.timeout ?? 5000);
  const https = url.startsWith('https:');
  // Nothing pinned: the certificate is shown, and trusted only as the engineer said.
  const observed = new ObservedTls();
  let tls: DeviceTls = observed;
  if (v['ca-file']) tls = new CaTls(await readFile(v['ca-file']));
  else if (fingerprint !== undefined) tls = new GivenTls(fingerprint);
  else if (https) return look(url, observed, timeoutMs, v.json === true, io);
  const client = new OnvifDeviceClient(
    { xaddr: url, username: v.user, password: new Secret(password), tls, ...vendor },
    { timeoutMs },
  );
  const result = await runChecks(checks, {
    device: { id: 'checked', name: url, kind, xaddr: url },
    client,
    signal: new AbortController().signal,
    settings: { ...checkDefaults },
    memory: new DeviceMemory(),
    now: Date.now,
    intervalS: 15,
  });
  const status = result.ok ? (result.degraded.length > 0 ? 'degraded' : 'up') : 'down';
  if (v.json) {
    const certificate = fingerprint !== undefined && https ? { tlsFingerprint: fingerprint } : {};
    io.print(JSON.stringify({ url, status, ...certificate, ...result }, null, 2));
  } else {
    io.print(`${url}: ${status}`);
    if (fingerprint !== undefined && https) {
      io.print(`  HTTPS certificate SHA-256 ${fingerprint} (the one given with --fingerprint)`);
    }
    if (result.identity) {
      const i = result.identity;
      io.print(
        `  ${i.manufacturer} ${i.model}, firmware ${i.firmwareVersion}, serial ${i.serialNumber}, hardware ${i.hardwareId}`,
      );
    }
    for (const [key, value] of Object.entries(result.values))
      io.print(`  ${key}: ${String(value)}`);
    const reasons = result.ok ? result.degraded : [result.failure];
    for (const r of reasons)
      io.print(`  ! ${r.code}${r.channel ? ` [${r.channel}]` : ''}: ${r.message}`);
    // An NVR's channels, for the `behind:` entries of the cameras on its PoE ports.
    for (const line of channelLines(result.vendor?.channels ?? [])) io.print(`  ${line}`);
  }
  process.exitCode = status === 'up' ? 0 : status === 'degraded' ? 3 : 4;
}

/**
 * `check` of an https URL with no certificate confirmed: the device is asked for its time
 * only, with no credentials at all (GetSystemDateAndTime needs none, ONVIF Core 5.12), so
 * a machine in the device's place learns nothing. The certificate's SHA-256 is printed for
 * the engineer to compare with the device's own and give back with --fingerprint.
 */
async function look(
  url: string,
  observed: ObservedTls,
  timeoutMs: number,
  json: boolean,
  io: MainIo,
): Promise<void> {
  const client = new OnvifDeviceClient(
    { xaddr: url, username: '', password: new Secret(''), tls: observed },
    { timeoutMs },
  );
  let answered: string;
  try {
    const clock = await client.clock(new AbortController().signal);
    answered = `the device answered (its UTC clock: ${clock.deviceUtc?.toISOString() ?? 'not given'})`;
  } catch (error) {
    if (observed.fingerprint === null) {
      io.print(
        json
          ? JSON.stringify({ url, status: 'down', reason: (error as Error).message }, null, 2)
          : `${url}: down\n  ! ${(error as Error).message}`,
      );
      process.exitCode = 4;
      return;
    }
    answered = `the device's answer: ${(error as Error).message}`;
  }
  const again = `run again with --fingerprint ${observed.fingerprint} to check it with the credentials`;
  if (json) {
    io.print(
      JSON.stringify(
        { url, status: 'not-checked', tlsFingerprint: observed.fingerprint, reason: again },
        null,
        2,
      ),
    );
  } else {
    io.print(`${url}: not checked, no credentials sent (its HTTPS certificate is not confirmed)`);
    io.print(`  HTTPS certificate SHA-256 ${observed.fingerprint}; ${answered}`);
    io.print(
      `  compare it with the certificate on the device (its web page or label), then ${again}`,
    );
  }
  process.exitCode = 5;
}

async function trust(argv: string[], io: MainIo): Promise<void> {
  const parsed = parse(
    argv,
    {
      config: { type: 'string', short: 'c' },
      fingerprint: { type: 'string' },
      timeout: { type: 'string' },
    },
    io,
    true,
  );
  if (!parsed) return;
  const v = parsed.values as { config?: string; fingerprint?: string; timeout?: string };
  const id = parsed.positionals[0];
  if (!id || !v.config) {
    io.printError(`vigil agent trust: DEVICE and --config FILE are required\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const config = await loadConfig(v.config);
  const device = config.devices.find((d) => d.id === id);
  const fail = (text: string): void => {
    io.printError(`vigil agent trust: ${text}`);
    process.exitCode = 1;
  };
  if (!device) {
    return fail(
      `no device "${id}" in ${v.config}; the devices are: ${config.devices.map((d) => d.id).join(', ')}`,
    );
  }
  const url = new URL(device.xaddr);
  if (url.protocol !== 'https:') {
    return fail(`${id} is reached over ${url.protocol} (${device.xaddr}): it has no certificate`);
  }
  if (device.ca ?? config.tls.ca) {
    return fail(
      `${id} is verified against the CA file of the configuration (tls.caFile), not pinned: install a certificate signed by that CA on the device`,
    );
  }
  const presented = await presentedFingerprint(url.hostname, Number(url.port || 443), {
    timeoutMs: Number(v.timeout ?? 5000),
  });
  const pins = new PinStore(config.dataDir, io.log);
  pins.load();
  // The device service's address: other addresses of the device are accepted from the NOC.
  const at = { deviceId: id, endpoint: endpointOfUrl(device.xaddr), service: true };
  const pinned = pins.get(at)?.fingerprint;
  io.print(`${id} (${device.xaddr})`);
  const none = pins.lost
    ? `(none: the pins were lost, ${pins.lost}; nothing is trusted on first use)`
    : '(none yet: the agent pins the first certificate it sees)';
  io.print(`  pinned:    ${pinned ?? none}`);
  io.print(`  presented: ${presented}`);
  if (pinned === presented) {
    io.print('  the presented certificate is the pinned one: nothing to accept');
    return;
  }
  if (v.fingerprint === undefined) {
    io.print(
      `  compare it with the certificate on the device (its web page or label), then accept it:\n` +
        `  vigil agent trust ${id} --config ${v.config} --fingerprint ${presented}`,
    );
    process.exitCode = 3;
    return;
  }
  if (v.fingerprint.toUpperCase() !== presented) {
    return fail(`${id} presents ${presented}, not ${v.fingerprint}; nothing accepted`);
  }
  const by = `gateway:${userInfo().username}`;
  try {
    pins.accept(at, presented, by);
  } catch (error) {
    if (error instanceof PinsLocked) return fail(error.message);
    throw error;
  }
  io.print(`  accepted by ${by}; the running agent uses it at its next poll`);
}
