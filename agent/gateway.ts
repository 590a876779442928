/**
 * The site gateway's own resources, for AgentHealth: a gateway whose disk fills or whose
 * CPU is pegged stops monitoring before any camera fails. The only importer of
 * systeminformation, loaded on the first sample: `vigil agent check` and `discover`
 * never pay for it.
 */
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

export class Gateway {
  readonly #dataDir: string;
  readonly #log: Logger;
  #last: GatewayStats = { cpuLoadPct: 0, memUsedPct: 0, diskUsedPct: 0 };
  #warned = new Set<string>();

  constructor(dataDir: string, log: Logger) {
    this.#dataDir = dataDir;
    this.#log = log;
  }

  /**
   * Reads CPU load, memory, the disk of the data folder and the CPU temperature. A value
   * that cannot be read keeps its last reading (0 before the first), and says so once in
   * the log; this never throws, so health reports keep coming.
   */
  async sample(): Promise<GatewayStats> {
    const si = (await import('systeminformation')).default;
    const [load, mem, disks, temperature, interfaces] = await Promise.allSettled([
      si.currentLoad(),
      si.mem(),
      si.fsSize(),
      si.cpuTemperature(),
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
    if (temperature.status === 'fulfilled') {
      const main = temperature.value.main;
      // systeminformation reports null (or -1 on old kernels) where no sensor exists.
      if (typeof main === 'number' && Number.isFinite(main) && main > -50) {
        stats.temperatureC = Math.round(main * 10) / 10;
      }
    }
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
    this.#log.warn(`gateway health: cannot read the ${what} (${why}); reporting the last value`);
  }
}
