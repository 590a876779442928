/**
 * Fastify's logger, written to the broker's plain-line Log (broker/log.ts) so the API
 * reads like the rest of the broker ("api: login failed (failedLogins=3)").
 *
 * No secret can reach a line: only the message, primitive fields by name and an error's
 * message and stack are written; request and reply objects (with their Authorization
 * and Cookie headers) never are. That is stricter than redacting known paths, which
 * misses the next header someone adds. Debug and trace lines are dropped.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Log } from '../log.js';

/** Field names written even when their value looks harmless: none may hold a secret. */
const SECRET_KEYS = /pass|token|secret|cookie|authorization/i;

function describeError(error: Error, withStack: boolean): string {
  return withStack && error.stack !== undefined ? error.stack : error.message;
}

export function formatLine(args: unknown[], withStack: boolean): string {
  const [first, second] = args;
  if (typeof first === 'string') return first;
  if (first instanceof Error) return describeError(first, withStack);
  const message = typeof second === 'string' ? second : '';
  if (typeof first !== 'object' || first === null) return message;
  const parts: string[] = [];
  let error = '';
  for (const [key, value] of Object.entries(first)) {
    if (key === 'err' && value instanceof Error) error = describeError(value, withStack);
    else if (SECRET_KEYS.test(key)) continue;
    else if (['string', 'number', 'boolean'].includes(typeof value)) parts.push(`${key}=${value}`);
  }
  const fields = parts.length > 0 ? ` (${parts.join(', ')})` : '';
  return `${message}${fields}${error === '' ? '' : `: ${error}`}`;
}

/** A FastifyBaseLogger over `log`; pass it as fastify's `loggerInstance`. */
export function fastifyLogger(log: Log): FastifyBaseLogger {
  const drop = () => {};
  const logger = {
    level: 'info',
    fatal: (...args: unknown[]) => log.error(formatLine(args, true)),
    error: (...args: unknown[]) => log.error(formatLine(args, true)),
    warn: (...args: unknown[]) => log.warn(formatLine(args, false)),
    info: (...args: unknown[]) => log.info(formatLine(args, false)),
    debug: drop,
    trace: drop,
    silent: drop,
    child: () => logger,
  };
  // The pino method signatures are overloads; ours accept all of them.
  return logger as unknown as FastifyBaseLogger;
}
