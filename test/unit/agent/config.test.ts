import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../agent/config.js';
import { VigilError } from '../../../shared/errors.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-agent-config-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function rejection(promise: Promise<unknown>): Promise<VigilError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(VigilError);
    return error as VigilError;
  }
  throw new Error('expected the configuration to be refused');
}

const valid = `
siteId: demo-site
agentId: gw-01
mqtt:
  url: mqtts://noc.example.com:8883
  username: demo-site.gw-01
  passwordFile: secrets/mqtt-password
onvif:
  username: monitor
  password: site-onvif-secret
devices:
  - id: cam-01
    name: Lobby entrance
    kind: camera
    xaddr: http://192.0.2.11/onvif/device_service
  - id: nvr-01
    name: Recorder A
    kind: nvr
    xaddr: http://192.0.2.50:8080/onvif/device_service
    username: admin
    password: nvr-secret
`;

describe('agent configuration', () => {
  it('loads a valid file with defaults, file secrets and per-device credentials', async () => {
    await mkdir(join(dir, 'secrets'));
    await write('secrets/mqtt-password', 'broker-secret\n');
    const config = await loadConfig(await write('agent.yaml', valid));
    expect(config.siteId).toBe('demo-site');
    expect(config.polling).toEqual({
      intervalS: 15,
      timeoutMs: 5000,
      concurrency: 32,
      recheckS: 1,
      jitterPct: 10,
      healthIntervalS: 30,
      probeS: 2,
      probeTimeoutMs: 1000,
      behindOfflineS: 120,
    });
    expect(config.mqtt.password.reveal()).toBe('broker-secret');
    expect(config.dataDir).toBe(dir);
    const [cam, nvr] = config.devices;
    expect(cam).toMatchObject({ id: 'cam-01', username: 'monitor' });
    expect(cam?.password.reveal()).toBe('site-onvif-secret');
    expect(nvr).toMatchObject({ id: 'nvr-01', username: 'admin' });
    expect(nvr?.password.reveal()).toBe('nvr-secret');
  });

  it('never shows a secret when the configuration is printed', async () => {
    const config = await loadConfig(
      await write(
        'agent.yaml',
        valid.replace('passwordFile: secrets/mqtt-password', 'password: broker-secret'),
      ),
    );
    const printed = [
      JSON.stringify(config),
      inspect(config, { depth: 10 }),
      String(config.mqtt.password),
    ].join('\n');
    for (const secret of ['broker-secret', 'site-onvif-secret', 'nvr-secret']) {
      expect(printed).not.toContain(secret);
    }
  });

  it('lists every error of a file with many, each by its path', async () => {
    const path = await write(
      'agent.yaml',
      `
siteId: "demo/site"
agentId: gw-01
colour: blue
mqtt:
  url: https://user:pw@noc.example.com
  username: ""
polling:
  intervalS: -1
  concurrency: 2.5
  jitterPct: 80
  everySecond: true
onvif:
  username: monitor
  password: a
  passwordFile: b
devices:
  - id: cam-01
    name: Lobby
    kind: camera
    xaddr: ftp://192.0.2.11/onvif/device_service
  - id: cam-01
    name: Lobby again
    kind: doorbell
    xaddr: http://192.0.2.12/onvif/device_service
  - id: cam 3
    kind: camera
    xaddr: not a url
    port: 80
`,
    );
    const error = await rejection(loadConfig(path));
    expect(error.code).toBe('VIGIL_CONFIG_INVALID');
    expect(error.message).toContain(path);
    const expected = [
      /^siteId: must be 1 to 64 letters/,
      /^\(root\): unknown field\(s\) colour$/,
      /^mqtt\/url: must start with mqtt:\/\/ or mqtts:\/\/$/,
      /^mqtt\/url: must not contain credentials/,
      /^mqtt\/username: must not be empty$/,
      /^mqtt: password or passwordFile is required$/,
      /^polling\/intervalS: must be >= 0.1$/,
      /^polling\/concurrency: must be integer$/,
      /^polling\/jitterPct: must be <= 50$/,
      /^polling: unknown field\(s\) everySecond$/,
      /^onvif: set password or passwordFile, not both$/,
      /^devices\/0\/xaddr: must be an http:\/\/ or https:\/\/ URL/,
      /^devices\/1\/id: "cam-01" is already used by devices\/0$/,
      /^devices\/1\/kind: must be one of "camera", "nvr"$/,
      /^devices\/2\/id: must be 1 to 64 letters/,
      /^devices\/2: must have required properties name$/,
      /^devices\/2: unknown field\(s\) port$/,
      /^devices\/2\/xaddr: must be an http:\/\/ or https:\/\/ URL/,
    ];
    for (const pattern of expected) {
      expect(error.details, `${pattern} in\n${error.details.join('\n')}`).toEqual(
        expect.arrayContaining([expect.stringMatching(pattern)]),
      );
    }
    expect(error.details).toHaveLength(expected.length);
    // What a person reads: the code, every path, what to do.
    const text = error.describe();
    expect(text).toContain('VIGIL_CONFIG_INVALID');
    expect(text).toContain('  - devices/1/id');
    expect(text).not.toContain('pw@');
  });

  it('names an unreadable password file by its path', async () => {
    const error = await rejection(loadConfig(await write('agent.yaml', valid)));
    expect(error.details).toEqual([
      expect.stringMatching(/^mqtt\/passwordFile: cannot read secrets\/mqtt-password: ENOENT$/),
    ]);
  });

  it('names an unreadable TLS file by its path', async () => {
    const text = valid.replace(
      'passwordFile: secrets/mqtt-password',
      'password: x\n  ca: /nonexistent/ca.pem',
    );
    const error = await rejection(loadConfig(await write('agent.yaml', text)));
    expect(error.details).toEqual(['mqtt/ca: cannot read /nonexistent/ca.pem: ENOENT']);
  });

  it('reports broken YAML with its line', async () => {
    const error = await rejection(
      loadConfig(await write('agent.yaml', 'siteId: [unclosed\nagentId: x\n')),
    );
    expect(error.code).toBe('VIGIL_CONFIG_INVALID');
    expect(error.details.join('\n')).toMatch(/line \d+/);
  });

  it('says when the file cannot be read at all', async () => {
    const error = await rejection(loadConfig(join(dir, 'missing.yaml')));
    expect(error.code).toBe('VIGIL_CONFIG_UNREADABLE');
    expect(error.message).toContain('missing.yaml');
  });

  it('refuses a document that is not a mapping', async () => {
    const error = await rejection(loadConfig(await write('agent.yaml', '- just\n- a list\n')));
    expect(error.details).toEqual(['(root): must be object']);
  });
});

describe('discovery section', () => {
  beforeEach(async () => {
    await mkdir(join(dir, 'secrets'));
    await write('secrets/mqtt-password', 'm\n');
  });

  it('is off by default, with approve as the adoption mode', async () => {
    const config = await loadConfig(await write('agent.yaml', valid));
    expect(config.discovery).toMatchObject({ enabled: false, adopt: 'approve', intervalS: 300 });
    expect(config.onvif.username).toBe('monitor');
    expect(inspect(config.onvif)).not.toContain('site-onvif-secret');
  });

  it('takes auto and a probe target; refuses an unknown mode by path', async () => {
    const on = valid.replace(
      'onvif:',
      '\ndiscovery:\n  enabled: true\n  adopt: auto\n  address: 127.0.0.1\n  port: 3702\nonvif:',
    );
    const config = await loadConfig(await write('on.yaml', on));
    expect(config.discovery).toMatchObject({ enabled: true, adopt: 'auto', port: 3702 });
    const bad = valid.replace('\nonvif:', '\ndiscovery:\n  adopt: always\n  port: 0\nonvif:');
    const error = await rejection(loadConfig(await write('bad.yaml', bad)));
    expect(error.details).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^discovery\/adopt: must be one of "auto", "approve"$/),
        expect.stringMatching(/^discovery\/port: /),
      ]),
    );
  });
});

describe('agent/agent.example.yaml', () => {
  it('is a valid configuration once its files exist', async () => {
    const example = new URL('../../../agent/agent.example.yaml', import.meta.url);
    const path = join(dir, 'agent.yaml');
    await copyFile(example, path);
    await mkdir(join(dir, 'secrets'));
    await mkdir(join(dir, 'tls'));
    await write('secrets/mqtt-password', 'm\n');
    await write('secrets/onvif-password', 'o\n');
    await write('tls/ca.pem', '-----BEGIN CERTIFICATE-----\n');
    const config = await loadConfig(path);
    expect(config.devices.map((d) => d.id)).toEqual(['cam-01', 'cam-02', 'nvr-01']);
    expect(config.devices[1]?.xaddr).toMatch(/^https:/);
    expect(config.dataDir).toBe(join(dir, 'data'));
    expect(config.mqtt.ca?.toString()).toContain('BEGIN CERTIFICATE');
  });
});

describe('tls (HTTPS device services)', () => {
  it("reads the agent CA file for every device and a device's own in its place; an unreadable one is an error by path", async () => {
    await write('site-ca.pem', 'SITE CA\n');
    await write('nvr-ca.pem', 'NVR CA\n');
    const body = (nvrCa: string) => `
siteId: s1
agentId: gw-01
mqtt: { url: "mqtt://127.0.0.1:1883", username: u, password: p }
onvif: { username: monitor, password: o }
tls: { caFile: site-ca.pem }
devices:
  - { id: cam-01, name: A, kind: camera, xaddr: "https://192.0.2.11/onvif/device_service" }
  - { id: nvr-01, name: B, kind: nvr, xaddr: "https://192.0.2.50/onvif/device_service", tls: { caFile: ${nvrCa} } }
`;
    const config = await loadConfig(await write('agent.yaml', body('nvr-ca.pem')));
    expect(config.tls.ca?.toString()).toBe('SITE CA\n');
    expect(config.devices.map((d) => d.ca?.toString())).toEqual(['SITE CA\n', 'NVR CA\n']);
    const error = await rejection(loadConfig(await write('agent.yaml', body('missing.pem'))));
    expect(error.details).toEqual([
      expect.stringMatching(/^devices\/1\/tls\/caFile: cannot read missing.pem: ENOENT/),
    ]);
  });
});

/*
 * The vendor API's own account (`vendor:` of the site and of a device): on Hikvision and
 * Dahua firmware the ONVIF users are another list than the web users that ISAPI and the
 * CGI accept (docs/DRIVERS.md). Read as the ONVIF account is, never printed, and a
 * password file that cannot be read names the device and says what to do.
 */

/**
 * The valid file (mqtt's password inline) with `site` lines before its devices and `extra`
 * lines at the end of its last device, nvr-01 (ONVIF user admin, password nvr-secret).
 */
function vendorFile(extra: string, site = ''): string {
  const file = valid
    .replace('passwordFile: secrets/mqtt-password', 'password: broker-secret')
    .replace('\ndevices:\n', `\n${site}devices:\n`);
  return `${file}${extra}`;
}

async function refused(text: string): Promise<string[]> {
  const error = await rejection(loadConfig(await write('agent.yaml', text)));
  expect(error.code).toBe('VIGIL_CONFIG_INVALID');
  return error.details ?? [];
}

describe('vendor: the device’s own account for its vendor API', () => {
  it('absent: devices have none and the vendor driver uses the ONVIF account', async () => {
    const config = await loadConfig(await write('agent.yaml', vendorFile('')));
    expect(config.vendor).toBeUndefined();
    expect(config.devices.map((d) => d.vendor)).toEqual([undefined, undefined]);
  });

  it('a device’s own, from a password file relative to the config, beside its ONVIF account', async () => {
    await write('nvr-01-web', 'web-secret\n');
    const config = await loadConfig(
      await write(
        'agent.yaml',
        vendorFile('    vendor:\n      username: admin\n      passwordFile: nvr-01-web\n'),
      ),
    );
    const nvr = config.devices[1];
    expect(nvr?.username).toBe('admin');
    expect(nvr?.password.reveal()).toBe('nvr-secret');
    expect(nvr?.vendor?.username).toBe('admin');
    expect(nvr?.vendor?.password.reveal()).toBe('web-secret');
    expect(config.devices[0]?.vendor).toBeUndefined();
    // Never printed: the loaded configuration can be logged whole.
    const printed = `${inspect(config, { depth: 10 })} ${JSON.stringify(config)}`;
    expect(printed).not.toContain('web-secret');
    expect(printed).not.toContain('nvr-secret');
  });

  it('the site’s default for every device without its own; a device’s own wins', async () => {
    const config = await loadConfig(
      await write(
        'agent.yaml',
        vendorFile(
          '    vendor: { username: installer, password: own-secret }\n',
          'vendor:\n  username: admin\n  password: site-web-secret\n',
        ),
      ),
    );
    expect(config.vendor?.username).toBe('admin');
    const [cam, nvr] = config.devices;
    expect(cam?.vendor?.username).toBe('admin');
    expect(cam?.vendor?.password.reveal()).toBe('site-web-secret');
    expect(nvr?.vendor?.username).toBe('installer');
    expect(nvr?.vendor?.password.reveal()).toBe('own-secret');
  });

  it('a missing password file says which device, which account and what to do', async () => {
    const details = await refused(
      vendorFile('    vendor:\n      username: admin\n      passwordFile: secrets/nvr-01-web\n'),
    );
    expect(details).toEqual([
      'devices/1/vendor/passwordFile: cannot read secrets/nvr-01-web (device nvr-01, ENOENT): ' +
        'put the password of the device\'s own (web, ISAPI or CGI) account "admin" in it ' +
        "(one line, readable by the agent; a relative path is read from the configuration file's folder), " +
        'or remove vendor: to use the ONVIF account for the vendor API',
    ]);
  });

  it('an empty password file is refused the same way; the site’s names the site', async () => {
    await write('empty', '\n');
    const details = await refused(
      vendorFile('', 'vendor:\n  username: admin\n  passwordFile: empty\n'),
    );
    expect(details).toEqual([
      expect.stringMatching(
        /^vendor\/passwordFile: empty \(the site's default\) is empty: put the password of the device's own \(web, ISAPI or CGI\) account "admin" in it/,
      ),
    ]);
  });

  it('needs a username and exactly one of password and passwordFile, by path', async () => {
    const details = await refused(
      vendorFile(
        '    vendor: { username: admin }\n',
        'vendor: { username: admin, password: a, passwordFile: b }\n',
      ),
    );
    expect(details).toEqual([
      'devices/1/vendor: password or passwordFile is required',
      'vendor: set password or passwordFile, not both',
    ]);
    const missing = await refused(vendorFile('    vendor: { password: x }\n'));
    expect(missing).toEqual([expect.stringMatching(/^devices\/1\/vendor.*username/)]);
    const unknown = await refused(
      vendorFile('    vendor: { username: a, password: x, user: b }\n'),
    );
    expect(unknown.join('\n')).toMatch(/devices\/1\/vendor/);
  });
});
