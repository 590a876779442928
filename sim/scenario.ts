/**
 * Site files (YAML): the layout of a simulated site and the faults that come and go on
 * their own. Read once at start; every error is reported with its path.
 *
 *   site: demo-site                  # site id (vigil sim --site-id overrides it)
 *   seed: demo                       # optional: changes serial numbers and firmware
 *   credentials:                     # optional: else VIGIL_SIM_USERNAME / VIGIL_SIM_PASSWORD
 *     username: admin
 *     password: secret
 *   devices:                         # in order; ids are cam-01.., nvr-01.. per kind
 *     - kind: camera
 *       count: 22
 *     - kind: camera
 *       count: 2
 *       personality: legacy-camera   # any name of sim/personality.ts
 *       credentials: { username: service, password: other }
 *       https: true                  # optional: ONVIF over HTTPS, self-signed certificate
 *       scene: static                # optional: nothing moves, no clock (default: clock)
 *     - kind: nvr
 *       count: 2
 *       channels: 16
 *       names: [Recorder A, Recorder B]
 *       personality: hikvision-nvr   # ISAPI beside ONVIF (dahua-nvr: Dahua's CGI)
 *       disks: [4000, 4000, 0]       # optional: bays, disk size in GB, 0 = empty bay
 *       credentials: { username: onvif, password: onvif-pw }   # the ONVIF user list
 *       vendorCredentials: { username: admin, password: web-pw }
 *                                    # optional, a vendor personality only: the device's own
 *                                    # (web, ISAPI, CGI) account. Hikvision and Dahua keep
 *                                    # the ONVIF users as a list of their own: with it, the
 *                                    # vendor API accepts only this account and ONVIF only
 *                                    # `credentials`. Absent: both accept `credentials`.
 *   faults:
 *     - device: cam-05
 *       at: 90                       # seconds after start (default 0)
 *       every: 300                   # optional: again every 300 s
 *       fault: { kind: offline, durationS: 60 }
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type, type Static } from 'typebox';
import { parseDocument } from 'yaml';
import { ID_PATTERN } from '../shared/ids.js';
import { validator } from '../shared/validate.js';
import { checkFault } from './faults.js';
import { deviceId } from './model.js';
import { personalityNames, quirksOf } from './personality.js';
import type { TimedFault } from './schedule.js';
import type { SiteDeviceSpec } from './site.js';
import type { Credentials } from './soap/auth.js';

const CredentialsSchema = Type.Object(
  { username: Type.String({ minLength: 1 }), password: Type.String({ minLength: 1 }) },
  { additionalProperties: false },
);

const SiteFileSchema = Type.Object(
  {
    site: Type.String({ pattern: ID_PATTERN }),
    seed: Type.Optional(Type.Union([Type.String(), Type.Number()])),
    credentials: Type.Optional(CredentialsSchema),
    devices: Type.Array(
      Type.Object(
        {
          kind: Type.Union([Type.Literal('camera'), Type.Literal('nvr')]),
          count: Type.Optional(Type.Integer({ minimum: 1, maximum: 9999 })),
          channels: Type.Optional(Type.Integer({ minimum: 1, maximum: 256 })),
          personality: Type.Optional(Type.Union(personalityNames.map((n) => Type.Literal(n)))),
          credentials: Type.Optional(CredentialsSchema),
          /** The vendor API's own account, apart from ONVIF's (see the header). */
          vendorCredentials: Type.Optional(CredentialsSchema),
          names: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
          /** ONVIF over HTTPS with a self-signed certificate made at start (sim/tls.ts). */
          https: Type.Optional(Type.Boolean()),
          /** An NVR's disk bays: the labelled size of each disk in GB, 0 for an empty bay. */
          disks: Type.Optional(
            Type.Array(Type.Integer({ minimum: 0, maximum: 100_000 }), {
              minItems: 1,
              maxItems: 64,
            }),
          ),
          /** What the cameras see (sim/picture.ts): `static` has no moving block, no clock. */
          scene: Type.Optional(Type.Union([Type.Literal('clock'), Type.Literal('static')])),
        },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
    faults: Type.Optional(
      Type.Array(
        Type.Object(
          {
            device: Type.String({ minLength: 1 }),
            at: Type.Optional(Type.Number({ minimum: 0 })),
            every: Type.Optional(Type.Number({ minimum: 1 })),
            fault: Type.Unknown(),
          },
          { additionalProperties: false },
        ),
      ),
    ),
  },
  { additionalProperties: false },
);
type SiteFile = Static<typeof SiteFileSchema>;
const checkSiteFile = validator(SiteFileSchema);

export interface Scenario {
  siteId: string;
  seed?: string;
  /** The file's account, if it names one. */
  credentials?: Credentials;
  /** Devices in order; `credentials` only where a group names its own. */
  devices: SiteDeviceSpec[];
  timedFaults: TimedFault[];
}

export type ScenarioResult = { ok: true; scenario: Scenario } | { ok: false; errors: string[] };

/** Parses and checks a site file's text; every error by path. */
export function parseScenario(text: string): ScenarioResult {
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    return {
      ok: false,
      errors: document.errors.map((e) => {
        const at = e.linePos?.[0];
        return `${at ? `line ${at.line}, column ${at.col}` : '(yaml)'}: ${e.message.split('\n')[0]}`;
      }),
    };
  }
  const checked = checkSiteFile(document.toJS() as unknown);
  if (!checked.ok) return { ok: false, errors: checked.errors };
  return build(checked.value);
}

function build(file: SiteFile): ScenarioResult {
  const errors: string[] = [];
  const devices: SiteDeviceSpec[] = [];
  const channelsOf = new Map<string, number>();
  const counts = { camera: 0, nvr: 0 };
  file.devices.forEach((group, g) => {
    const count = group.count ?? 1;
    if (group.kind === 'camera' && group.channels !== undefined && group.channels !== 1) {
      errors.push(`devices/${g}/channels: a camera has one channel; leave channels out`);
    }
    if (group.kind === 'camera' && group.disks !== undefined) {
      errors.push(`devices/${g}/disks: only an NVR has disk bays; leave disks out`);
    }
    if (group.vendorCredentials && !quirksOf(group.personality ?? 'standard').vendorApi) {
      const vendors = personalityNames.filter((name) => quirksOf(name).vendorApi);
      errors.push(
        `devices/${g}/vendorCredentials: personality ${group.personality ?? 'standard'} has no vendor API; ` +
          `set personality to ${vendors.join(' or ')}, or leave vendorCredentials out`,
      );
    }
    if (group.names && group.names.length > count) {
      errors.push(`devices/${g}/names: ${group.names.length} names for ${count} devices`);
    }
    for (let i = 0; i < count; i++) {
      counts[group.kind] += 1;
      const channels = group.kind === 'nvr' ? (group.channels ?? 16) : 1;
      channelsOf.set(deviceId(group.kind, counts[group.kind]), channels);
      devices.push({
        kind: group.kind,
        channels,
        ...(group.names?.[i] ? { name: group.names[i] } : {}),
        ...(group.personality ? { personality: group.personality } : {}),
        ...(group.credentials ? { credentials: group.credentials } : {}),
        ...(group.vendorCredentials ? { vendorCredentials: group.vendorCredentials } : {}),
        ...(group.https ? { https: true } : {}),
        ...(group.disks ? { disks: [...group.disks] } : {}),
        ...(group.scene ? { scene: group.scene } : {}),
      });
    }
  });
  const timedFaults: TimedFault[] = [];
  (file.faults ?? []).forEach((entry, n) => {
    const path = `faults/${n}`;
    const channels = channelsOf.get(entry.device);
    if (channels === undefined) {
      errors.push(
        `${path}/device: no device "${entry.device}" in this layout (${[...channelsOf.keys()].slice(0, 3).join(', ')}, ...)`,
      );
    }
    const fault = checkFault(entry.fault);
    if (!fault.ok) {
      errors.push(
        ...fault.errors.map((error) =>
          // "offsetS: ..." -> "faults/2/fault/offsetS: ..."; "(root): ..." -> "faults/2/fault: ..."
          error.startsWith('(root)')
            ? `${path}/fault${error.slice('(root)'.length)}`
            : `${path}/fault/${error}`,
        ),
      );
      return;
    }
    const channel = 'channel' in fault.value ? fault.value.channel : undefined;
    if (channel !== undefined && channels !== undefined && channel > channels) {
      errors.push(`${path}/fault/channel: ${entry.device} has ${channels} channel(s)`);
    }
    timedFaults.push({
      device: entry.device,
      fault: fault.value,
      atS: entry.at ?? 0,
      ...(entry.every !== undefined ? { everyS: entry.every } : {}),
    });
  });
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    scenario: {
      siteId: file.site,
      ...(file.seed !== undefined ? { seed: String(file.seed) } : {}),
      ...(file.credentials ? { credentials: file.credentials } : {}),
      devices,
      timedFaults,
    },
  };
}

/**
 * Finds a site file: as given (relative to the working directory), else relative to the
 * repository (so `node dist/cli/vigil.js sim --site sim/scenarios/demo.yaml` works from
 * anywhere), else a bare name in sim/scenarios ("demo" -> sim/scenarios/demo.yaml).
 */
export function resolveSiteFile(name: string): string | null {
  if (isAbsolute(name)) return existsSync(name) ? name : null;
  const here = dirname(fileURLToPath(import.meta.url));
  // sim/scenario.ts runs from sim/, its build from dist/sim/.
  const roots = [process.cwd(), resolve(here, '..'), resolve(here, '..', '..')];
  const candidates = roots.flatMap((root) => [
    join(root, name),
    join(root, 'sim', 'scenarios', name),
    join(root, 'sim', 'scenarios', `${name}.yaml`),
  ]);
  return candidates.find((file) => existsSync(file)) ?? null;
}

export function loadScenario(name: string): ScenarioResult {
  const file = resolveSiteFile(name);
  if (!file) {
    return {
      ok: false,
      errors: [`--site: no site file "${name}"; try sim/scenarios/demo.yaml or an absolute path`],
    };
  }
  const result = parseScenario(readFileSync(file, 'utf8'));
  return result.ok ? result : { ok: false, errors: result.errors.map((e) => `${file}: ${e}`) };
}
