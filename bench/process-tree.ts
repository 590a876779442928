/**
 * What a server made of several processes costs: PostgreSQL runs a postmaster and one
 * backend per connection (plus its writer, checkpointer, WAL writer), so its CPU is the
 * sum over the tree. Also the open-files limit a benchmark with thousands of sockets needs.
 * Linux only: /proc (proc(5)).
 */
import { readdirSync, readFileSync } from 'node:fs';

// /proc/PID/stat counts CPU in clock ticks (USER_HZ, 100 on Linux).
const CLK_TCK = 100;

/** The fields of /proc/PID/stat after the command name (which may hold spaces). */
function statFields(pid: string): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/**
 * CPU seconds of a process, of its live children (utime + stime, fields 14 and 15) and
 * of the children it already reaped (cutime + cstime, fields 16 and 17): a backend that
 * exited during a step still counts.
 */
export function processTreeCpuS(pid: number): number {
  const own = statFields(String(pid));
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || entry === String(pid)) continue;
    let fields: string[];
    try {
      fields = statFields(entry);
    } catch {
      continue; // exited while we looked
    }
    // Field 4 (index 1 here) is the parent's pid.
    if (Number(fields[1]) === pid) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / CLK_TCK;
}

/** The soft and hard limits on open files of this process (/proc/self/limits). */
export function openFilesLimit(): { soft: number; hard: number } {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const [soft, hard] = (line ?? '').trim().split(/\s+/).slice(3, 5);
  const value = (v: string | undefined) => (v === 'unlimited' ? Infinity : Number(v));
  return { soft: value(soft), hard: value(hard) };
}
