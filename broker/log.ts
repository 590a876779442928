/**
 * The broker's log: plain lines on the console, one per event a person may need to read
 * later (a refused agent, a rejected message, a store that went away). Everything that
 * logs takes a `Log`, so a test can read what an operator would see.
 *
 * Lines never carry a password or a token: callers pass names and reasons only.
 */
export interface Log {
  info(line: string): void;
  warn(line: string): void;
  error(line: string): void;
}

/** Lines on stdout/stderr, each prefixed with the part that wrote it ("mqtt: ..."). */
export function consoleLog(prefix = 'broker'): Log {
  return {
    info: (line) => console.log(`${prefix}: ${line}`),
    warn: (line) => console.warn(`${prefix}: ${line}`),
    error: (line) => console.error(`${prefix}: ${line}`),
  };
}

/** The same log with a narrower prefix: `child(log, 'mqtt')` writes "mqtt: ...". */
export function child(log: Log, prefix: string): Log {
  return {
    info: (line) => log.info(`${prefix}: ${line}`),
    warn: (line) => log.warn(`${prefix}: ${line}`),
    error: (line) => log.error(`${prefix}: ${line}`),
  };
}

/** Discards everything; for code paths that have nobody to tell. */
export const silentLog: Log = { info: () => {}, warn: () => {}, error: () => {} };
