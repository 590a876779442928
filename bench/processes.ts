/**
 * What every benchmark measures a process with and starts the simulator by: one place,
 * so the figures of bench:sim, bench:agent and bench:broker are taken the same way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Linux: /proc/PID/stat counts CPU in clock ticks (USER_HZ, 100) and memory in pages.
const CLK_TCK = 100;
const PAGE = 4096;

/** `dist/cli/vigil.js`, the CLI the benchmarks start their processes with. */
export const vigil = fileURLToPath(new URL('../cli/vigil.js', import.meta.url));

/** CPU seconds (user + system) and resident memory of a process, from /proc (proc(5)). */
export function usage(pid: number): { cpuS: number; rssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name in parentheses may hold spaces: count fields after its ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    cpuS: (Number(fields[11]) + Number(fields[12])) / CLK_TCK,
    rssMb: (Number(fields[21]) * PAGE) / 1024 / 1024,
  };
}

/**
 * CPU seconds of a process and its live children (PostgreSQL's backends are children of
 * the postmaster), plus what its exited children used (cutime, cstime): proc(5).
 */
export function treeCpuS(pid: number): number {
  const fieldsOf = (of: string) => {
    const stat = readFileSync(`/proc/${of}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  };
  const own = fieldsOf(String(pid));
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = fieldsOf(entry);
      if (Number(fields[1]) === pid) ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // Gone meanwhile.
    }
  }
  return ticks / CLK_TCK;
}

/** The p-th percentile (nearest rank) of unsorted values; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Resolves with the first capture group (or the match) once the child prints `pattern`. */
export function waitForOutput(child: ChildProcess, pattern: RegExp, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => reject(new Error(`no ${pattern} within ${ms} ms:\n${output}`)),
      ms,
    );
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = pattern.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] ?? match[0]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
  });
}

/**
 * `vigil sim` with this many cameras and NVRs on free ports (no discovery), or the layout
 * of a site file (`layout: {siteFile}`); resolves once its control API answers, with the
 * process and the control API's URL.
 */
export async function startSimProcess(
  cameras: number,
  nvrs: number,
  timeoutMs: number,
  layout: { siteFile?: string } = {},
): Promise<{ sim: ChildProcess; controlUrl: string }> {
  const fleet = layout.siteFile
    ? ['--site', layout.siteFile]
    : ['--cameras', String(cameras), '--nvrs', String(nvrs)];
  const sim = spawn(
    process.execPath,
    [vigil, 'sim', ...fleet, '--control-port', '0', '--rtsp-port', '0', '--discovery-port', '0'],
    {
      env: { ...process.env, VIGIL_SIM_PASSWORD: 'bench-password' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  try {
    const controlUrl = await waitForOutput(sim, /control API (http:\/\/[\d.:]+)/, timeoutMs);
    return { sim, controlUrl };
  } catch (error) {
    sim.kill('SIGKILL');
    throw error;
  }
}
