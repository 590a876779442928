/**
 * The site gateway's own resources, for AgentHealth: a gateway whose disk fills or whose
 * CPU is pegged stops monitoring before any camera fails, and one that overheats (a
 * fanless box in a cabinet in the sun) slows down and then shuts down. The only importer
 * of systeminformation, loaded on the first sample: `vigil agent check` and `discover`
 * never pay for it.
 */
import { readFile } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import type { AgentHealth } from '../shared/messages/agent-health.js';
import type { Logger } from './log.js';

export type GatewayStats = AgentHealth['gateway'];

const percent = (value: number): number => Math.min(100, Math.max(0, Math.round(value * 10) / 10));

/** The mount that holds `path`: the longest mount point that is a prefix of it. */
export function mountOf<T extends { mount: string }>(
  filesystems: T[],
  path: string,
): T | undefined {
  const target = resolve(path);
  let best: T | undefined;
  for (const fs of filesystems) {
    const mount = fs.mount;
    const holds =
      mount === target ||
      mount === sep ||
      target.startsWith(mount.endsWith(sep) ? mount : mount + sep);
    if (holds && (!best || mount.length > best.mount.length)) best = fs;
  }
  return best;
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
  #last: GatewayStats = { cpuLoadPct: 0, memUsedPct: 0, diskUsedPct: 0 };
  #warned = new Set<string>();
  /** Files that gave a reading in millidegrees: their small numbers are millidegrees too. */
  #millidegrees = new Set<string>();

  /**
   * `temperatureFile`: the agent config's `gateway.temperatureFile` (asked at each sample,
   * so a reloaded configuration takes effect); absent: systeminformation's own sensor.
   */
  constructor(
    dataDir: string,
    log: Logger,
    temperatureFile: () => string | undefined = () => undefined,
  ) {
    this.#dataDir = dataDir;
    this.#log = log;
    this.#temperatureFile = temperatureFile;
  }

  /**
   * Reads CPU load, memory, the disk of the data folder and the CPU temperature. A value
   * that cannot be read keeps its last reading (0 before the first), and says so once in
   * the log; this never throws, so health reports keep coming. The temperature is the
   * exception: without a reading there is none in the report (many x86 boxes have no
   * sensor systeminformation finds), never an old one that could keep a heat alert open.
   */
  async sample(): Promise<GatewayStats> {
    const si = (await import('systeminformation')).default;
    const file = this.#temperatureFile();
    const [load, mem, disks, temperature, interfaces] = await Promise.allSettled([
      si.currentLoad(),
      si.mem(),
      si.fsSize(),
      // systeminformation picks a sensor itself (hwmon's CPU package, thermal_zone0 ...);
      // a named file is that choice made by the installer, or the simulator's file.
      file === undefined
        ? si.cpuTemperature().then((t) => t.main)
        : readFile(file, 'utf8').then((text) => {
            if (Math.abs(Number(text.trim())) >= DEGREES_BELOW) this.#millidegrees.add(file);
            return parseMillidegrees(text, this.#millidegrees.has(file));
          }),
      si.networkInterfaces(),
    ]);
    const stats: GatewayStats = { ...this.#last };
    delete stats.temperatureC;
    delete stats.interfaces;
    if (load.status === 'fulfilled' && Number.isFinite(load.value.currentLoad)) {
      stats.cpuLoadPct = Math.max(0, Math.round(load.value.currentLoad * 10) / 10);
    } else this.#warnOnce('cpu load', load);
    if (mem.status === 'fulfilled' && mem.value.total > 0) {
      // `available` counts reclaimable caches as free, as the kernel does (MemAvailable).
      stats.memUsedPct = percent(((mem.value.total - mem.value.available) / mem.value.total) * 100);
    } else this.#warnOnce('memory', mem);
    const disk = disks.status === 'fulfilled' ? mountOf(disks.value, this.#dataDir) : undefined;
    if (disk && disk.size > 0) {
      stats.diskUsedPct = percent((disk.used / disk.size) * 100);
    } else this.#warnOnce(`disk of ${this.#dataDir}`, disks);
    const celsius = temperature.status === 'fulfilled' ? temperature.value : undefined;
    // systeminformation reports null (or -1 on old kernels) where no sensor exists: no
    // temperature, said nowhere; a file the installer named and that gives none is said.
    if (typeof celsius === 'number' && Number.isFinite(celsius) && celsius > -50) {
      stats.temperatureC = Math.round(celsius * 10) / 10;
    } else if (file !== undefined) this.#warnOnce(`temperature in ${file}`, temperature);
    stats.uptimeS = Math.round(si.time().uptime);
    if (interfaces.status === 'fulfilled') {
      const list = Array.isArray(interfaces.value) ? interfaces.value : [interfaces.value];
      stats.interfaces = list
        .filter((i) => !i.internal)
        .slice(0, 64)
        .map((i) => ({
          name: i.iface.slice(0, 64),
          ip4: i.ip4.slice(0, 64),
          up: i.operstate === 'up',
        }));
    }
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
