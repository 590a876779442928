/**
 * The agent's configuration: one YAML file, checked once at start against a TypeBox schema.
 * Every error is reported with its path and the agent refuses to run half configured
 * (STYLE habit 4). Relative file paths (passwordFile, ca, cert, key, dataDir) are read
 * relative to the configuration file. Secrets are wrapped in `Secret`, so the loaded
 * configuration can be printed without leaking them.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Type, type Static, type TSchema } from 'typebox';
import { parseDocument } from 'yaml';
import { VigilError } from '../shared/errors.js';
import { Id, ID_PATTERN } from '../shared/ids.js';
import { validator } from '../shared/validate.js';
import { DRIVER_NAMES, type DriverName } from './drivers/names.js';
import { Secret } from './secret.js';

const Text = Type.String({ minLength: 1 });

/** Either the secret itself or a file that holds it (so the YAML can be world-readable). */
const PasswordFields = {
  password: Type.Optional(Text),
  passwordFile: Type.Optional(Text),
};

const MqttSection = Type.Object(
  {
    /**
     * The broker, or the broker nodes in order (an active node and its standbys, issue
     * 17): the agent stays with the one that accepts it and moves on when it refuses
     * (CONNACK 3, server unavailable) or goes away.
     */
    url: Type.Union([Text, Type.Array(Text, { minItems: 1, maxItems: 16 })]),
    username: Text,
    ...PasswordFields,
    ca: Type.Optional(Text),
    cert: Type.Optional(Text),
    key: Type.Optional(Text),
    /** Longest wait between two connection attempts (default 60 s). */
    reconnectMaxS: Type.Optional(Type.Number({ minimum: 0.1, maximum: 3600 })),
  },
  { additionalProperties: false },
);

const PollingSection = Type.Object(
  {
    intervalS: Type.Optional(Type.Number({ minimum: 0.1, maximum: 86_400 })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 50, maximum: 120_000 })),
    concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
    recheckS: Type.Optional(Type.Number({ minimum: 0.05, maximum: 3600 })),
    jitterPct: Type.Optional(Type.Number({ minimum: 0, maximum: 50 })),
    healthIntervalS: Type.Optional(Type.Number({ minimum: 0.1, maximum: 86_400 })),
    /** Seconds between two liveness probes of a device (agent/liveness.ts); 0: none. */
    probeS: Type.Optional(
      Type.Union([Type.Literal(0), Type.Number({ minimum: 0.5, maximum: 86_400 })]),
    ),
    /** Deadline of one liveness probe. */
    probeTimeoutMs: Type.Optional(Type.Integer({ minimum: 50, maximum: 120_000 })),
    /**
     * A camera behind an NVR is down once its NVR has shown its channel offline this long
     * without a break (agent/behind-nvr.ts: a camera rebooting shows offline for a minute
     * or two).
     */
    behindOfflineS: Type.Optional(Type.Number({ minimum: 0, maximum: 3600 })),
  },
  { additionalProperties: false },
);

const SpoolSection = Type.Object(
  {
    /** Largest size of the spool on disk; beyond it the oldest records are dropped (counted). */
    maxMiB: Type.Optional(Type.Number({ minimum: 1, maximum: 1_048_576 })),
  },
  { additionalProperties: false },
);

const ChecksSection = Type.Object(
  {
    /** Clock offset beyond which a device is degraded (clock-drift). */
    clockDriftS: Type.Optional(Type.Number({ minimum: 0.1, maximum: 86_400 })),
    /** GetSystemDateAndTime slower than this: degraded (slow-response). */
    slowResponseMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 120_000 })),
    /** An NVR channel whose newest recording is older than this: recording stopped. */
    recordingLagS: Type.Optional(Type.Number({ minimum: 1, maximum: 7 * 86_400 })),
    /** Snapshots identical to the pixel in this many of a channel's pictures in a row: frozen. */
    frozenPolls: Type.Optional(Type.Integer({ minimum: 2, maximum: 1000 })),
    /** Sharpness below this fraction of the camera's usual: blurred (agent/picture.ts). */
    blurFraction: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 })),
    /** Pictures of a channel in a row below blurFraction before picture-blurred. */
    blurPolls: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    /** Pictures learned before a camera's sharpness is judged at all. */
    blurBaselinePolls: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
    /**
     * From the second refusal of a device's credentials in a row on, try them at most once
     * per this many seconds (agent/poll.ts: account lockouts count failed logins per half
     * hour). New credentials (SIGHUP) are tried at once.
     */
    credentialsRetryS: Type.Optional(Type.Number({ minimum: 60, maximum: 86_400 })),
    /** Download and judge a snapshot each poll (costs bandwidth on slow links). */
    picture: Type.Optional(Type.Boolean()),
    /**
     * Channels of one device whose picture, stream and recording job state are checked in
     * one poll, in turn (an NVR's 16 or 64), besides those whose last look was wrong (every poll until good
     * again); agent/checks/turns.ts.
     */
    channelsPerPoll: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
    /** RTSP DESCRIBE each stream each poll. */
    stream: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/**
 * WS-Discovery (ONVIF Core 7.3) beside the configured list. `auto`: a device that answers
 * and is not configured is polled with the site's default `onvif:` account; `approve`: it
 * is listed in the birth (AgentOnline.discovered) for the NOC and not polled.
 */
const DiscoverySection = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    /** Seconds between two probes (the first goes out at start). */
    intervalS: Type.Optional(Type.Number({ minimum: 1, maximum: 86_400 })),
    adopt: Type.Optional(Type.Union([Type.Literal('auto'), Type.Literal('approve')])),
    /** Where the Probe goes: the WS-Discovery multicast group by default. */
    address: Type.Optional(Text),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65_535 })),
    /** How long answers are collected after a Probe. */
    waitS: Type.Optional(Type.Number({ minimum: 0.1, maximum: 60 })),
  },
  { additionalProperties: false },
);

/** The gateway's own health (agent/gateway.ts). */
const GatewaySection = Type.Object(
  {
    /**
     * A file giving the gateway's temperature as Linux thermal zones and hwmon do
     * (millidegrees Celsius as text, e.g. /sys/class/thermal/thermal_zone0/temp), read
     * instead of the sensor the agent finds (agent/gateway.ts findCpuSensor).
     */
    temperatureFile: Type.Optional(Text),
  },
  { additionalProperties: false },
);

const OnvifSection = Type.Object(
  { username: Text, ...PasswordFields },
  { additionalProperties: false },
);

/**
 * The device's own account for its vendor API (Hikvision ISAPI, Dahua CGI; docs/DRIVERS.md):
 * on that firmware the ONVIF users are a list of their own, apart from the web users the
 * vendor API accepts, so a site whose ONVIF user ("onvif") is not a web user gives the
 * driver the web account here. Top level: the site's default; in a device entry: that
 * device's. Absent in both: the vendor driver uses the device's ONVIF account.
 */
const VendorSection = Type.Object(
  { username: Text, ...PasswordFields },
  { additionalProperties: false },
);

/**
 * HTTPS device services (docs/ONVIF.md, HTTPS and pinning): without `caFile`, each
 * device's certificate is pinned on first use (dataDir/tls-pins.json); with it, the chain
 * and the name are verified against that CA instead.
 */
const TlsSection = Type.Object({ caFile: Type.Optional(Text) }, { additionalProperties: false });

/**
 * A camera on an NVR's channel (agent/behind-nvr.ts, docs/ARCHITECTURE.md "Cameras behind
 * an NVR"): the NVR's device id in this file and the channel number as the NVR shows it.
 */
const BehindEntry = Type.Object(
  {
    nvr: Id,
    channel: Type.Integer({ minimum: 1, maximum: 256 }),
  },
  { additionalProperties: false },
);

const DeviceEntry = Type.Object(
  {
    id: Id,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    kind: Type.Union([Type.Literal('camera'), Type.Literal('nvr')]),
    /**
     * The device's ONVIF service address. Absent only for a camera `behind` an NVR that the
     * gateway cannot reach (on the NVR's own PoE ports): its state comes from its NVR.
     */
    xaddr: Type.Optional(Text),
    /**
     * The NVR channel the camera is on. With `xaddr` too, the camera is polled and what the
     * NVR sees of it is added; without, it is not polled and its NVR's polls decide.
     */
    behind: Type.Optional(BehindEntry),
    username: Type.Optional(Text),
    password: Type.Optional(Text),
    tls: Type.Optional(TlsSection),
    /**
     * The vendor driver (agent/drivers/, docs/DRIVERS.md): `hikvision` (ISAPI), `dahua`
     * (CGI), or `onvif` for ONVIF checks only. Absent: chosen from the manufacturer the
     * device's GetDeviceInformation gives.
     */
    driver: Type.Optional(Type.Union(DRIVER_NAMES.map((name) => Type.Literal(name)))),
    /** The device's own (web, ISAPI, CGI) account for its vendor driver (VendorSection). */
    vendor: Type.Optional(VendorSection),
  },
  { additionalProperties: false },
);

const TopLevel = Type.Object(
  {
    siteId: Id,
    agentId: Id,
    dataDir: Type.Optional(Text),
    mqtt: Type.Object({}),
    polling: Type.Optional(Type.Object({})),
    spool: Type.Optional(Type.Object({})),
    checks: Type.Optional(Type.Object({})),
    discovery: Type.Optional(Type.Object({})),
    tls: Type.Optional(Type.Object({})),
    gateway: Type.Optional(Type.Object({})),
    onvif: Type.Object({}),
    vendor: Type.Optional(Type.Object({})),
    devices: Type.Array(Type.Object({})),
  },
  { additionalProperties: false },
);

/** The file as written; exported for documentation and tests. */
export const ConfigFile = Type.Object({
  siteId: Id,
  agentId: Id,
  dataDir: Type.Optional(Text),
  mqtt: MqttSection,
  polling: Type.Optional(PollingSection),
  spool: Type.Optional(SpoolSection),
  checks: Type.Optional(ChecksSection),
  discovery: Type.Optional(DiscoverySection),
  tls: Type.Optional(TlsSection),
  gateway: Type.Optional(GatewaySection),
  onvif: OnvifSection,
  vendor: Type.Optional(VendorSection),
  devices: Type.Array(DeviceEntry),
});
export type ConfigFile = Static<typeof ConfigFile>;

export const pollingDefaults = {
  intervalS: 15,
  timeoutMs: 5000,
  // Polls in flight. A poll is ~8 requests plus a snapshot and a DESCRIBE, nearly all of it
  // waiting on the device: 500 devices every 15 s is 33 polls/s, so 32 slots keep up while
  // a poll takes up to ~1 s (Little's law). Measured in agent/README.md (Concurrency).
  concurrency: 32,
  // The confirming second look after a first failure. 1 s (was 2) took bench:detect's
  // failure-to-ticket p95 from 15.56 s to 14.89 s at the 15 s poll (goal <= 15 s); a
  // device that fails twice a second apart is down, and the contract's clock is running.
  // A first failure by timeout is looked at again at once: it already waited its deadline.
  recheckS: 1,
  jitterPct: 10,
  healthIntervalS: 30,
  // The liveness probe between polls (agent/liveness.ts). The goal is failure to ticket and
  // return to resolved within 10 s (issue 13). A hung device or a silent link costs at worst
  // probeS (the phase) + probeTimeoutMs (the probe) + timeoutMs (the confirming check's
  // first request) = 2 + 1 + 5 = 8 s before the broker's part; met by a poll instead of a
  // probe, the same: the poll asks its opening question again once it is probeTimeoutMs
  // overdue (agent/checks/reachable.ts); a refused one probeS, a
  // return probeS plus one poll. A LAN camera answers GetSystemDateAndTime in milliseconds,
  // so 1 s is generous yet leaves the 5 s request deadline its whole share. 2 s, not 3:
  // at 3 s bench:detect measured the hang's p95 at 10.25 s (goal 10; the theoretical 9 s
  // plus the simulator's, the agent's and the broker's own time). 500 devices every 2 s is
  // 250 small requests/s (bench:agent measures the cost; agent/README.md).
  probeS: 2,
  probeTimeoutMs: 1000,
  // A camera behind an NVR: its channel offline for 2 minutes without a break before it
  // is down. An NVR marks a channel offline as soon as its camera drops, and a camera
  // rebooting (Hikvision's weekly auto maintenance, a firmware push) or booting on the
  // PoE port of an NVR that has just restarted is offline for 60 to 120 s; a second look
  // 1 s later (recheckS) sees the NVR's same list and confirms nothing (review-b). The
  // contract's 10 minutes to answer an emergency leave room for 2 of them; the outage is
  // still dated from the first offline sighting.
  behindOfflineS: 120,
} as const;

export const checkDefaults = {
  clockDriftS: 5,
  slowResponseMs: 2000,
  recordingLagS: 120,
  frozenPolls: 3,
  // A lens knocked out of focus keeps well under half its sharpness (the simulator's blur,
  // 3 box passes of radius 4, keeps under 1 %), while dusk (the measure is a ratio of two
  // variances), passing traffic and another frame's noise move it by tens of percent.
  // 4 polls are a minute at the 15 s poll; 20 learned pictures are 5 minutes
  // (agent/README.md, Pictures).
  blurFraction: 0.4,
  blurPolls: 4,
  blurBaselinePolls: 20,
  // Hikvision and Dahua lock an account after 5 failed logins, for 30 min by default; one
  // try is at most 2 failed logins on the wire, so 2 tries per 30 min stay under (poll.ts).
  credentialsRetryS: 1800,
  picture: true,
  // An NVR's channels are pictured and described in turn, 4 a poll: a 16-channel
  // recorder's each once a minute at the 15 s poll, a camera's every poll. A recorder
  // decodes a picture for each snapshot (of a 4 MP channel, a JPEG of some 300 KB) and
  // answers each DESCRIBE on a connection of its own: 16 to 64 of each every 15 s cost the
  // recorder, the LAN and the gateway more than the faults they show (a picture's black,
  // covered, frozen, blurred; a channel's stream not served) are worth, while the
  // recorder's own channel state (vendor drivers: online, video loss) is still read every
  // poll and a channel found wrong is looked at every poll. bench:agent: agent/README.md.
  channelsPerPoll: 4,
  stream: true,
} as const;

export type ChecksConfig = {
  [K in keyof typeof checkDefaults]: (typeof checkDefaults)[K] extends boolean ? boolean : number;
};

export const discoveryDefaults = {
  enabled: false,
  intervalS: 300,
  adopt: 'approve',
  address: '239.255.255.250',
  port: 3702,
  waitS: 3,
} as const;

export interface DiscoveryConfig {
  enabled: boolean;
  intervalS: number;
  adopt: 'auto' | 'approve';
  address: string;
  port: number;
  waitS: number;
}

/** 256 MiB: the default bound of the spool. */
export const DEFAULT_SPOOL_MIB = 256;

export interface DeviceConfig {
  id: string;
  name: string;
  kind: 'camera' | 'nvr';
  xaddr: string;
  username: string;
  password: Secret;
  /** An https device's CA (its own tls.caFile, else the agent's); absent: pinned on first use. */
  ca?: Buffer;
  /** Also seen through an NVR's channel (agent/behind-nvr.ts: what the NVR saw is added). */
  behind?: BehindRef;
  /** The vendor driver set in the config; absent: chosen from the manufacturer (drivers/index.ts). */
  driver?: DriverName;
  /**
   * The account its vendor driver uses (the device's `vendor:`, else the site's); absent:
   * the ONVIF account above (docs/DRIVERS.md, the device's own account).
   */
  vendor?: VendorAccount;
}

/** A device's own (web, ISAPI, CGI) account, for its vendor API. */
export interface VendorAccount {
  username: string;
  password: Secret;
}

/**
 * Where a camera behind an NVR is (agent/behind-nvr.ts): the NVR's device id and its
 * channel, 1-based as the NVR shows it.
 */
export interface BehindRef {
  nvr: string;
  channel: number;
}

/**
 * A camera only behind an NVR (no `xaddr`): never polled, its state decided after each poll
 * of its NVR (agent/behind-nvr.ts).
 */
export interface BehindCameraConfig {
  id: string;
  name: string;
  kind: 'camera';
  behind: BehindRef;
}

export interface MqttConfig {
  /** The first broker URL (what a single-broker config names); `urls` holds them all. */
  url: string;
  /** Every broker node in the config's order (uplink.ts moves along them). */
  urls?: string[];
  username: string;
  password: Secret;
  ca?: Buffer;
  cert?: Buffer;
  key?: Secret<Buffer>;
  reconnectMaxS?: number;
}

export type PollingConfig = { [K in keyof typeof pollingDefaults]: number };

/** The configuration after validation: defaults applied, secrets and TLS files read. */
export interface AgentConfig {
  siteId: string;
  agentId: string;
  /** Where the agent keeps its data (the spool, later); gateway health reports its disk. */
  dataDir: string;
  mqtt: MqttConfig;
  polling: PollingConfig;
  spool: { maxBytes: number };
  checks: ChecksConfig;
  discovery: DiscoveryConfig;
  /** HTTPS device services: the agent's CA file (tls.caFile), read; absent: trust on first use. */
  tls: { ca?: Buffer };
  /** The gateway's own health: `temperatureFile` absolute, absent: the sensor the agent finds. */
  gateway: { temperatureFile?: string };
  /** The site's default ONVIF account: configured devices without their own, adopted ones. */
  onvif: { username: string; password: Secret };
  /** The site's default vendor API account (`vendor:`), for devices without their own. */
  vendor?: VendorAccount;
  devices: DeviceConfig[];
  /** Cameras behind an NVR that the gateway cannot reach (no xaddr): not polled. */
  behindNvr: BehindCameraConfig[];
}

type Section = { path: string; schema: TSchema; value: unknown };

/**
 * TypeBox stops collecting after a few errors per validation, so each section (and each
 * device) is validated on its own: an error in `mqtt` never hides one in `devices/7`.
 */
function schemaErrors(raw: unknown): string[] {
  const top = validator(TopLevel)(raw);
  const errors = top.ok ? [] : [...top.errors];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return errors;
  const doc = raw as Record<string, unknown>;
  const sections: Section[] = [
    { path: 'mqtt', schema: MqttSection, value: doc.mqtt },
    { path: 'polling', schema: PollingSection, value: doc.polling },
    { path: 'spool', schema: SpoolSection, value: doc.spool },
    { path: 'checks', schema: ChecksSection, value: doc.checks },
    { path: 'discovery', schema: DiscoverySection, value: doc.discovery },
    { path: 'tls', schema: TlsSection, value: doc.tls },
    { path: 'gateway', schema: GatewaySection, value: doc.gateway },
    { path: 'onvif', schema: OnvifSection, value: doc.onvif },
    { path: 'vendor', schema: VendorSection, value: doc.vendor },
  ];
  if (Array.isArray(doc.devices)) {
    doc.devices.forEach((device, i) => {
      sections.push({ path: `devices/${i}`, schema: DeviceEntry, value: device });
    });
  }
  for (const section of sections) {
    if (typeof section.value !== 'object' || section.value === null) continue; // reported above
    const result = validator(section.schema)(section.value);
    if (result.ok) continue;
    for (const error of result.errors) {
      errors.push(
        error.startsWith('(root): ')
          ? `${section.path}: ${error.slice('(root): '.length)}`
          : `${section.path}/${error}`,
      );
    }
  }
  return errors.map(plainer);
}

/** Schema wording that a person at a site should not have to decode. */
function plainer(error: string): string {
  return error
    .replace(/: must not have fewer than 1 characters$/, ': must not be empty')
    .replace(
      `: must match pattern "${ID_PATTERN}"`,
      ': must be 1 to 64 letters, digits, "_", "." or "-", starting with a letter or digit',
    );
}

/** Sorted by path, so the errors of one section read together. */
function byPath(a: string, b: string): number {
  const path = (error: string): string => error.slice(0, error.indexOf(':'));
  const pa = path(a);
  const pb = path(b);
  if (pa === pb) return 0;
  if (pa === '(root)') return -1;
  if (pb === '(root)') return 1;
  return pa.localeCompare(pb, 'en', { numeric: true });
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** Rules a schema cannot say well: exclusive fields, URL schemes, unique ids. */
function ruleErrors(raw: unknown): string[] {
  const errors: string[] = [];
  const doc = record(raw);
  const passwordRule = (path: string, value: unknown): void => {
    const section = record(value);
    const has = (key: string): boolean => section[key] !== undefined;
    if (has('password') && has('passwordFile')) {
      errors.push(`${path}: set password or passwordFile, not both`);
    } else if (!has('password') && !has('passwordFile')) {
      errors.push(`${path}: password or passwordFile is required`);
    }
  };
  for (const path of ['mqtt', 'onvif', 'vendor']) {
    if (path in doc && (path !== 'vendor' || doc[path] !== undefined))
      passwordRule(path, doc[path]);
  }
  const entries = Array.isArray(doc.devices) ? doc.devices : [];
  entries.forEach((entry, i) => {
    const vendor = record(entry).vendor;
    if (vendor !== undefined) passwordRule(`devices/${i}/vendor`, vendor);
  });
  const urls = record(doc.mqtt).url;
  (Array.isArray(urls) ? urls : [urls]).forEach((url, i) => {
    if (typeof url !== 'string' || url === '') return;
    const path = Array.isArray(urls) ? `mqtt/url/${i}` : 'mqtt/url';
    let parsed: URL | null = null;
    try {
      parsed = new URL(url);
    } catch {
      errors.push(`${path}: must be a URL such as mqtts://noc.example.com:8883`);
    }
    if (parsed && parsed.protocol !== 'mqtt:' && parsed.protocol !== 'mqtts:') {
      errors.push(`${path}: must start with mqtt:// or mqtts://`);
    }
    if (parsed && (parsed.username !== '' || parsed.password !== '')) {
      // Credentials in a URL end up in logs and process lists; they have their own fields.
      errors.push(`${path}: must not contain credentials; use mqtt.username and mqtt.password`);
    }
  });
  const seen = new Map<string, number>();
  const devices = Array.isArray(doc.devices) ? doc.devices : [];
  devices.forEach((entry, i) => {
    const device = record(entry);
    if (typeof device.id === 'string') {
      const first = seen.get(device.id);
      if (first !== undefined) {
        errors.push(`devices/${i}/id: "${device.id}" is already used by devices/${first}`);
      } else {
        seen.set(device.id, i);
      }
    }
    if (device.xaddr === undefined && device.behind === undefined) {
      errors.push(
        `devices/${i}/xaddr: required (the device's ONVIF address, such as http://192.0.2.11/onvif/device_service), ` +
          "unless the camera is on an NVR the gateway cannot see past: then set behind: {nvr: <the NVR's id>, channel: <its channel>}",
      );
    }
    if (typeof device.xaddr === 'string' && device.xaddr !== '') {
      let parsed: URL | null = null;
      try {
        parsed = new URL(device.xaddr);
      } catch {
        // fall through to the message below
      }
      if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
        errors.push(
          `devices/${i}/xaddr: must be an http:// or https:// URL such as http://192.0.2.11/onvif/device_service`,
        );
      } else if (parsed.username !== '' || parsed.password !== '') {
        errors.push(`devices/${i}/xaddr: must not contain credentials; use username and password`);
      }
    }
  });
  errors.push(...behindErrors(devices.map(record)));
  return errors;
}

/**
 * `behind: {nvr, channel}`: a camera, on an NVR of this file that the gateway polls, one
 * camera per channel. Whether the NVR has that channel is known only once it answers
 * (agent/behind-nvr.ts says so in the log and keeps the camera unknown).
 */
function behindErrors(devices: Record<string, unknown>[]): string[] {
  const errors: string[] = [];
  const index = new Map<unknown, number>();
  devices.forEach((device, i) => {
    if (!index.has(device.id)) index.set(device.id, i);
  });
  const taken = new Map<string, number>();
  devices.forEach((device, i) => {
    const behind = record(device.behind);
    if (device.behind === undefined || typeof behind.nvr !== 'string') return;
    if (device.kind === 'nvr') {
      errors.push(
        `devices/${i}/behind: only a camera can be behind an NVR; remove behind from this NVR`,
      );
      return;
    }
    const at = index.get(behind.nvr);
    const nvr = at === undefined ? undefined : devices[at];
    if (at === undefined || nvr === undefined) {
      errors.push(
        `devices/${i}/behind/nvr: no device "${behind.nvr}" in this file; set it to the id of the NVR the camera is connected to, and list that NVR under devices`,
      );
      return;
    }
    if (nvr.kind !== 'nvr') {
      errors.push(
        `devices/${i}/behind/nvr: "${behind.nvr}" (devices/${at}) is a ${String(nvr.kind)}, not an NVR; set kind: nvr on it or name the NVR the camera is connected to`,
      );
      return;
    }
    if (typeof behind.channel !== 'number') return;
    const key = `${behind.nvr}/${behind.channel}`;
    const first = taken.get(key);
    if (first !== undefined) {
      errors.push(
        `devices/${i}/behind/channel: channel ${behind.channel} of "${behind.nvr}" is already devices/${first}; one camera per channel (the NVR's channel list shows which camera is on which)`,
      );
    } else {
      taken.set(key, i);
    }
  });
  return errors;
}

async function readSecretFile(
  path: string,
  file: string,
  base: string,
  errors: string[],
): Promise<string> {
  try {
    // A trailing newline is how editors save a one-line file; it is not part of the secret.
    const text = (await readFile(resolve(base, file), 'utf8')).replace(/\r?\n$/, '');
    if (text === '') errors.push(`${path}: ${file} is empty`);
    return text;
  } catch (error) {
    errors.push(`${path}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`);
    return '';
  }
}

async function readBinaryFile(
  path: string,
  file: string | undefined,
  base: string,
  errors: string[],
): Promise<Buffer | undefined> {
  if (file === undefined) return undefined;
  try {
    return await readFile(resolve(base, file));
  } catch (error) {
    errors.push(`${path}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`);
    return undefined;
  }
}

async function password(
  path: string,
  section: { password?: string; passwordFile?: string },
  base: string,
  errors: string[],
): Promise<Secret> {
  if (section.password !== undefined) return new Secret(section.password);
  return new Secret(
    await readSecretFile(`${path}/passwordFile`, section.passwordFile ?? '', base, errors),
  );
}

/**
 * A vendor API account (`vendor:` of the site or of a device). A password file that cannot
 * be read names the device and says what the file must hold: the vendor account is the
 * one an installer is least likely to recognise from its path.
 */
async function vendorAccount(
  path: string,
  owner: string,
  section: { username: string; password?: string; passwordFile?: string } | undefined,
  base: string,
  errors: string[],
): Promise<VendorAccount | undefined> {
  if (!section) return undefined;
  if (section.password !== undefined) {
    return { username: section.username, password: new Secret(section.password) };
  }
  const file = section.passwordFile ?? '';
  const what =
    `put the password of the device's own (web, ISAPI or CGI) account "${section.username}" in it ` +
    `(one line, readable by the agent; a relative path is read from the configuration file's folder), ` +
    `or remove vendor: to use the ONVIF account for the vendor API`;
  try {
    const text = (await readFile(resolve(base, file), 'utf8')).replace(/\r?\n$/, '');
    if (text === '') errors.push(`${path}/passwordFile: ${file} (${owner}) is empty: ${what}`);
    return { username: section.username, password: new Secret(text) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    errors.push(`${path}/passwordFile: cannot read ${file} (${owner}, ${code}): ${what}`);
    return undefined;
  }
}

/**
 * Checks a parsed document and builds the configuration. `base` is the folder relative
 * file paths are read from. Throws VIGIL_CONFIG_INVALID listing every error by path.
 */
export async function buildConfig(raw: unknown, base: string): Promise<AgentConfig> {
  const errors = [...schemaErrors(raw), ...ruleErrors(raw)];
  if (errors.length > 0) {
    throw new VigilError('VIGIL_CONFIG_INVALID', undefined, [...new Set(errors)].sort(byPath));
  }
  const file = raw as ConfigFile;
  const fileErrors: string[] = [];
  const mqttPassword = await password('mqtt', file.mqtt, base, fileErrors);
  const onvifPassword = await password('onvif', file.onvif, base, fileErrors);
  const ca = await readBinaryFile('mqtt/ca', file.mqtt.ca, base, fileErrors);
  const cert = await readBinaryFile('mqtt/cert', file.mqtt.cert, base, fileErrors);
  const key = await readBinaryFile('mqtt/key', file.mqtt.key, base, fileErrors);
  const siteVendor = await vendorAccount(
    'vendor',
    "the site's default",
    file.vendor,
    base,
    fileErrors,
  );
  const deviceVendors = await Promise.all(
    file.devices.map((device, i) =>
      vendorAccount(`devices/${i}/vendor`, `device ${device.id}`, device.vendor, base, fileErrors),
    ),
  );
  const deviceCa = await readBinaryFile('tls/caFile', file.tls?.caFile, base, fileErrors);
  const deviceCas = await Promise.all(
    file.devices.map((device, i) =>
      readBinaryFile(`devices/${i}/tls/caFile`, device.tls?.caFile, base, fileErrors),
    ),
  );
  if (fileErrors.length > 0) throw new VigilError('VIGIL_CONFIG_INVALID', undefined, fileErrors);

  const brokers = typeof file.mqtt.url === 'string' ? [file.mqtt.url] : file.mqtt.url;
  const mqtt: MqttConfig = {
    url: brokers[0]!,
    ...(brokers.length > 1 ? { urls: brokers } : {}),
    username: file.mqtt.username,
    password: mqttPassword,
  };
  if (ca) mqtt.ca = ca;
  if (cert) mqtt.cert = cert;
  if (key) mqtt.key = new Secret(key);
  if (file.mqtt.reconnectMaxS !== undefined) mqtt.reconnectMaxS = file.mqtt.reconnectMaxS;
  // Polled: every device with an address. Only behind an NVR: the others (ruleErrors).
  const polled = file.devices.flatMap((device, i) =>
    device.xaddr === undefined
      ? []
      : [
          {
            device: { ...device, xaddr: device.xaddr },
            ownCa: deviceCas[i],
            vendor: deviceVendors[i] ?? siteVendor,
          },
        ],
  );
  const behindNvr = file.devices.flatMap((device): BehindCameraConfig[] =>
    device.xaddr === undefined && device.behind !== undefined
      ? [{ id: device.id, name: device.name, kind: 'camera', behind: { ...device.behind } }]
      : [],
  );
  return {
    siteId: file.siteId,
    agentId: file.agentId,
    dataDir: resolve(base, file.dataDir ?? '.'),
    mqtt,
    polling: { ...pollingDefaults, ...file.polling },
    spool: { maxBytes: Math.round((file.spool?.maxMiB ?? DEFAULT_SPOOL_MIB) * 1024 * 1024) },
    checks: { ...checkDefaults, ...file.checks },
    discovery: { ...discoveryDefaults, ...file.discovery },
    tls: deviceCa ? { ca: deviceCa } : {},
    gateway: file.gateway?.temperatureFile
      ? { temperatureFile: resolve(base, file.gateway.temperatureFile) }
      : {},
    onvif: { username: file.onvif.username, password: onvifPassword },
    ...(siteVendor ? { vendor: siteVendor } : {}),
    behindNvr,
    devices: polled.map(({ device, ownCa, vendor }) => {
      const ca = ownCa ?? deviceCa;
      return {
        id: device.id,
        name: device.name,
        kind: device.kind,
        xaddr: device.xaddr,
        username: device.username ?? file.onvif.username,
        password: device.password !== undefined ? new Secret(device.password) : onvifPassword,
        ...(ca ? { ca } : {}),
        ...(device.behind ? { behind: { ...device.behind } } : {}),
        ...(device.driver ? { driver: device.driver } : {}),
        ...(vendor ? { vendor } : {}),
      };
    }),
  };
}

/** Reads, parses and checks a configuration file. */
export async function loadConfig(path: string): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new VigilError(
      'VIGIL_CONFIG_UNREADABLE',
      `Cannot read the configuration file ${path} (${(error as NodeJS.ErrnoException).code ?? error}); check the path and its permissions.`,
    );
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new VigilError(
      'VIGIL_CONFIG_INVALID',
      `${path} is not valid YAML; fix every listed line and start again.`,
      doc.errors.map((error) => error.message.split('\n')[0] ?? error.message),
    );
  }
  try {
    return await buildConfig(doc.toJS(), dirname(resolve(path)));
  } catch (error) {
    if (error instanceof VigilError && error.code === 'VIGIL_CONFIG_INVALID') {
      throw new VigilError(
        'VIGIL_CONFIG_INVALID',
        `${path} has errors; fix every listed path and start again.`,
        error.details,
      );
    }
    throw error;
  }
}
