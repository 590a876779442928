/**
 * Logs for tests. Everything in the broker logs through a `Log` (broker/log.ts), so a
 * test either drops the lines or keeps them to read what an operator would see.
 */
import type { Log } from '../../broker/log.js';

/** Discards everything: the broker's own, not a copy. */
export { silentLog, type Log } from '../../broker/log.js';

export interface RecordingLog extends Log {
  /** Every line in order, prefixed with its level: "info ...", "warn ...", "error ...". */
  lines: string[];
}

/** Keeps every line, so a test can assert what was logged (and what never was). */
export function recordingLog(): RecordingLog {
  const lines: string[] = [];
  return {
    lines,
    info: (line) => lines.push(`info ${line}`),
    warn: (line) => lines.push(`warn ${line}`),
    error: (line) => lines.push(`error ${line}`),
  };
}
