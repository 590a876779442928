/**
 * The agent's log: one line per event a person at the site may need (ready, broker refused,
 * a check bug). Device states and readings travel as MQTT data, not as log lines (STYLE
 * habit 10). Nothing that is passed here may contain a secret.
 *
 * A running agent writes JSON lines through pino (`jsonLogger`, the only importer of pino
 * in agent/): {"level":"info","time":"...","component":"agent","msg":"..."}, what
 * journald, Loki or jq read. The command-line tools print for people (`consoleLogger`).
 */
import pino from 'pino';
export type LogLevel = 'info' | 'warn' | 'error';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

function line(level: LogLevel, message: string): string {
  return `${new Date().toISOString()} ${level.padEnd(5)} ${message}`;
}

export const consoleLogger: Logger = {
  info: (message) => console.log(line('info', message)),
  warn: (message) => console.warn(line('warn', message)),
  error: (message) => console.error(line('error', message)),
};

/** Keeps every line in memory; for tests that assert what a person would read. */
export class MemoryLogger implements Logger {
  readonly lines: { level: LogLevel; message: string }[] = [];

  info(message: string): void {
    this.lines.push({ level: 'info', message });
  }

  warn(message: string): void {
    this.lines.push({ level: 'warn', message });
  }

  error(message: string): void {
    this.lines.push({ level: 'error', message });
  }

  text(): string {
    return this.lines.map((l) => `${l.level} ${l.message}`).join('\n');
  }
}

/** JSON lines on stdout (or `destination`), one object per line. */
export function jsonLogger(destination: NodeJS.WritableStream = process.stdout): Logger {
  const logger = pino(
    {
      base: { component: 'agent' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  return {
    info: (message) => logger.info(message),
    warn: (message) => logger.warn(message),
    error: (message) => logger.error(message),
  };
}
