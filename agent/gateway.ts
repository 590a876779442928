/**
 * The site gateway's own resources, for AgentHealth: a gateway whose disk fills or whose
 * CPU is pegged stops monitoring before any camera fails, and one that overheats (a
 * fanless box in a cabinet in the sun) slows down and then shuts down.
 *
 * Read from the kernel's own files and Node's os module, never by running a command: the
 * systeminformation package used before ran `cat /proc/stat`, the interface and disk
 * listings and the sensor scan through a shell with execSync, which held the event loop
 * for about 120 ms every health interval at 500 devices (a CPU profile of bench:agent),
 * late for every probe and poll due meanwhile, and forked a 140 MiB process to do it.
 */
import { readdir, readFile, statfs } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { AgentHealth } from '../shared/messages/agent-health.js';
import type { Logger } from './log.js';

export type GatewayStats = AgentHealth['gateway'];

const percent = (value: number): number => Math.min(100, Math.max(0, Math.round(value * 10) / 10));

/** CPU time of every core together (os.cpus(), from /proc/stat on Linux), in ms. */
function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of os.cpus()) {
    busy += times.user + times.nice + times.sys + times.irq;
    total += times.user + times.nice + times.sys + times.irq + times.idle;
  }
  return { busy, total };
}

/**
 * The disk use of the filesystem that holds `path` (or its nearest existing parent, as
 * the data folder may not exist yet), as df counts it: used / (used + available to
 * unprivileged users), so the blocks reserved for root count as full.
 */
export async function diskUsedPct(path: string): Promise<number> {
  let at = resolve(path);
  for (;;) {
    try {
      const fs = await statfs(at);
      const used = fs.blocks - fs.bfree;
      const room = used + fs.bavail;
      if (room <= 0) throw new Error(`the filesystem of ${at} reports no blocks`);
      return percent((used / room) * 100);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(at) === at) throw error;
      at = dirname(at);
    }
  }
}

/** Memory in use, counting reclaimable caches as free as the kernel does (MemAvailable). */
async function memUsedPct(): Promise<number> {
  let total = os.totalmem();
  let available = os.freemem();
  try {
    // proc(5): MemTotal, MemAvailable in kB (since Linux 3.14).
    const text = await readFile('/proc/meminfo', 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1]);
    const [t, a] = [kb('MemTotal'), kb('MemAvailable')];
    if (t > 0 && Number.isFinite(a)) [total, available] = [t, a];
  } catch {
    // Not Linux: Node's own figures.
  }
  if (!(total > 0)) throw new Error('the total memory reads 0');
  return percent(((total - available) / total) * 100);
}

/**
 * The network interfaces but loopback, with their first IPv4 address and whether the
 * link is up: every interface the kernel lists (/sys/class/net, its `operstate`, kernel
 * Documentation/ABI/testing/sysfs-class-net), an unplugged one included, which
 * os.networkInterfaces() leaves out once it has no address; elsewhere Node's list.
 */
async function interfaces(sys: string): Promise<NonNullable<GatewayStats['interfaces']>> {
  const addresses = os.networkInterfaces();
  const ip4 = (name: string) =>
    addresses[name]?.find((a) => a.family === 'IPv4' && !a.internal)?.address ?? '';
  let names: string[];
  try {
    names = (await readdir(join(sys, 'class/net'))).sort();
  } catch {
    return Object.entries(addresses)
      .filter(([, list]) => list?.some((a) => !a.internal))
      .map(([name]) => ({ name: name.slice(0, 64), ip4: ip4(name), up: true }));
  }
  const out: NonNullable<GatewayStats['interfaces']> = [];
  for (const name of names) {
    if (name === 'lo' || out.length === 64) continue;
    const state = await readFile(join(sys, 'class/net', name, 'operstate'), 'utf8').catch(() => '');
    out.push({ name: name.slice(0, 64), ip4: ip4(name), up: state.trim() === 'up' });
  }
  return out;
}

/** A temperature file's label or type that names the CPU package or die. */
const CPU_SENSOR = /package|physical|tdie|tctl|x86_pkg_temp|cpu|soc/i;
/** A hwmon chip that measures the CPU (its `name` file). */
const CPU_CHIP = /^(coretemp|k10temp|zenpower|cpu_thermal|cpu-thermal|soc_thermal|soc-thermal)$/;

/**
 * The file that gives the CPU's temperature, when the installer named none: a hwmon
 * input whose label names the package or die (coretemp's "Package id 0", k10temp's "Tdie"
 * or "Tctl"; kernel Documentation/hwmon/sysfs-interface), else a thermal zone whose type
 * names the CPU or SoC (x86_pkg_temp, cpu-thermal, soc_thermal; Documentation/ABI/testing/
 * sysfs-class-thermal), else none: many x86 boxes expose no sensor at all.
 */
export async function findCpuSensor(sys = '/sys'): Promise<string | undefined> {
  const listing = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).sort();
  const text = (file: string) =>
    readFile(file, 'utf8').then(
      (t) => t.trim(),
      () => '',
    );
  for (const hwmon of await listing(join(sys, 'class/hwmon'))) {
    const dir = join(sys, 'class/hwmon', hwmon);
    const files = await listing(dir);
    for (const file of files.filter((f) => /^temp\d+_label$/.test(f))) {
      if (CPU_SENSOR.test(await text(join(dir, file)))) {
        return join(dir, file.replace(/_label$/, '_input'));
      }
    }
    // Drivers of one CPU sensor often give no label (cpu_thermal on ARM boards, k10temp
    // on older kernels): the chip's `name` says what it measures.
    if (files.includes('temp1_input') && CPU_CHIP.test(await text(join(dir, 'name')))) {
      return join(dir, 'temp1_input');
    }
  }
  for (const zone of (await listing(join(sys, 'class/thermal'))).filter((z) =>
    z.startsWith('thermal_zone'),
  )) {
    if (CPU_SENSOR.test(await text(join(sys, 'class/thermal', zone, 'type')))) {
      return join(sys, 'class/thermal', zone, 'temp');
    }
  }
  return undefined;
}

/**
 * Below this magnitude a temperature file's whole number is degrees, not millidegrees.
 * Linux thermal zones and hwmon write millidegrees (45 °C is `45000`), but some vendor
 * kernels' and boards' files (and scripts an installer points at) write whole degrees
 * (`45`): read as millidegrees that is 0.045 °C, a gateway that can never be hot. No SoC
 * runs at 200 °C (thermal trip points are 100-125 °C), so a whole number below 200 is
 * degrees; from 200 on (0.2 °C in millidegrees) it is millidegrees. The one reading this
 * misreads is a millidegree sensor between -0.2 and +0.2 °C; once a file gave a reading
 * in millidegrees the Gateway keeps reading it so (`millidegrees`).
 */
export const DEGREES_BELOW = 200;

/**
 * Degrees Celsius from the text of a Linux thermal zone's `temp` or a hwmon `temp*_input`
 * file: an integer in millidegrees Celsius (kernel Documentation/ABI/testing/
 * sysfs-class-thermal, "Unit: millidegree Celsius"; Documentation/hwmon/sysfs-interface:
 * "temp[1-*]_input ... Unit: millidegree Celsius"), as `45000\n`; or whole degrees (`45`),
 * as some vendor files give them (DEGREES_BELOW), unless `millidegrees` says the file is
 * known to give millidegrees. Throws on anything else, so a wrong file is said in the log
 * instead of read as a temperature.
 */
export function parseMillidegrees(text: string, millidegrees = false): number {
  const trimmed = text.trim();
  if (!/^-?\d{1,7}$/.test(trimmed)) {
    throw new Error(
      `"${trimmed.slice(0, 40)}" is not millidegrees Celsius as a whole number (such as 45000)`,
    );
  }
  const value = Number(trimmed);
  return !millidegrees && Math.abs(value) < DEGREES_BELOW ? value : value / 1000;
}

export class Gateway {
  readonly #dataDir: string;
  readonly #log: Logger;
  readonly #temperatureFile: () => string | undefined;
  readonly #sys: string;
  #cpu = cpuTimes();
  /** The sensor found when the config names none: undefined until looked for, null: none. */
  #sensor: string | null | undefined;
  #last: GatewayStats = { cpuLoadPct: 0, memUsedPct: 0, diskUsedPct: 0 };
  #warned = new Set<string>();
  /** Files that gave a reading in millidegrees: their small numbers are millidegrees too. */
  #millidegrees = new Set<string>();

  /**
   * `temperatureFile`: the agent config's `gateway.temperatureFile` (asked at each sample,
   * so a reloaded configuration takes effect); absent: the sensor findCpuSensor finds.
   * `sys`: where sysfs is mounted (a folder of the same shape in tests).
   */
  constructor(
    dataDir: string,
    log: Logger,
    temperatureFile: () => string | undefined = () => undefined,
    sys = '/sys',
  ) {
    this.#dataDir = dataDir;
    this.#log = log;
    this.#temperatureFile = temperatureFile;
    this.#sys = sys;
  }

  /**
   * CPU load since the last sample (the first: since the Gateway was made). Samples closer
   * than the kernel's tick (10 ms) see no time pass: the last load stands, and the next
   * sample measures from the earlier one.
   */
  #cpuLoadPct(): number {
    const now = cpuTimes();
    const busy = now.busy - this.#cpu.busy;
    const total = now.total - this.#cpu.total;
    if (!(total > 0)) return this.#last.cpuLoadPct;
    this.#cpu = now;
    return percent((busy / total) * 100);
  }

  /** The temperature file to read: the config's, else the sensor found once. */
  async #sensorFile(): Promise<string | undefined> {
    const file = this.#temperatureFile();
    if (file !== undefined) return file;
    if (this.#sensor === undefined) this.#sensor = (await findCpuSensor(this.#sys)) ?? null;
    return this.#sensor ?? undefined;
  }

  /**
   * Reads CPU load, memory, the disk of the data folder and the CPU temperature. A value
   * that cannot be read keeps its last reading (0 before the first), and says so once in
   * the log; this never throws, so health reports keep coming. The temperature is the
   * exception: without a reading there is none in the report (many x86 boxes have no
   * sensor the agent finds), never an old one that could keep a heat alert open.
   */
  async sample(): Promise<GatewayStats> {
    const named = this.#temperatureFile();
    const file = await this.#sensorFile();
    const [load, mem, disk, temperature, links] = await Promise.allSettled([
      Promise.resolve().then(() => this.#cpuLoadPct()),
      memUsedPct(),
      diskUsedPct(this.#dataDir),
      file === undefined
        ? Promise.resolve(undefined)
        : readFile(file, 'utf8').then((text) => {
            if (Math.abs(Number(text.trim())) >= DEGREES_BELOW) this.#millidegrees.add(file);
            return parseMillidegrees(text, this.#millidegrees.has(file));
          }),
      interfaces(this.#sys),
    ]);
    const stats: GatewayStats = { ...this.#last };
    delete stats.temperatureC;
    delete stats.interfaces;
    if (load.status === 'fulfilled') stats.cpuLoadPct = load.value;
    else this.#warnOnce('cpu load', load);
    if (mem.status === 'fulfilled') stats.memUsedPct = mem.value;
    else this.#warnOnce('memory', mem);
    if (disk.status === 'fulfilled') stats.diskUsedPct = disk.value;
    else this.#warnOnce(`disk of ${this.#dataDir}`, disk);
    const celsius = temperature.status === 'fulfilled' ? temperature.value : undefined;
    if (typeof celsius === 'number' && Number.isFinite(celsius) && celsius > -50) {
      stats.temperatureC = Math.round(celsius * 10) / 10;
    } else if (named !== undefined) {
      // A file the installer named and that gives none is said; a found sensor that stops
      // answering (a driver unloaded) is looked for again at the next sample.
      this.#warnOnce(`temperature in ${named}`, temperature);
    } else if (file !== undefined) this.#sensor = undefined;
    stats.uptimeS = Math.round(os.uptime());
    if (links.status === 'fulfilled') stats.interfaces = links.value;
    this.#last = stats;
    return stats;
  }

  #warnOnce(what: string, result: PromiseSettledResult<unknown>): void {
    if (this.#warned.has(what)) return;
    this.#warned.add(what);
    const why = result.status === 'rejected' ? String(result.reason) : 'no reading';
    const then = what.startsWith('temperature')
      ? 'reporting no temperature; check gateway.temperatureFile in the agent config'
      : 'reporting the last value';
    this.#log.warn(`gateway health: cannot read the ${what} (${why}); ${then}`);
  }
}
