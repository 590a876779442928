/**
 * Log lines that could repeat once per message, at most one per cause and interval
 * (STYLE habit 16: logs are for people; the counts themselves are metrics). A client that
 * sends thousands of bad messages must not be able to fill the disk through our log: a
 * black-box fuzz of the front door (9,000 mutated packet streams) wrote 8,361 lines in 3
 * minutes from one client when every refusal had its own line (issue 11).
 *
 * A cause is a key the caller builds from who (an account, or an address before login)
 * and why (a reason with its details left out, see `causeOf`). The first line of a key
 * is written at once, unchanged; the same key again within `intervalMs` is only counted,
 * and once the interval is over one line says how many came since the last line, with
 * the first of them as the example. `flush()` writes what is still counted (the owner
 * calls it on stop). Whatever counts the messages themselves (the audit log, the
 * pipeline's counters) counts every one, as before: this limits only the words.
 *
 * Constructors only assign (STYLE habit 3): the one timer exists only while a count
 * waits to be written, and never keeps the process alive (unref).
 */
import type { Log } from './log.js';

type Level = keyof Log;

export interface LogLimiterOptions {
  /** One line per key at most this often; default 60 s. */
  intervalMs?: number;
  /**
   * Keys followed at once; default 1,000. Beyond that (thousands of addresses, or causes
   * made up by a client), the rest share one key, so the lines stay bounded whatever comes.
   */
  maxKeys?: number;
  /** The clock, in ms since the epoch (a test's fake one). */
  now?: () => number;
}

interface KeyState {
  level: Level;
  /** When this key's last line was written. */
  lastAt: number;
  /** Lines counted, not written, since then. */
  held: number;
  /** The first of them, written as the example. */
  example: string;
}

export const DEFAULT_LOG_INTERVAL_MS = 60_000;
const OVERFLOW_KEY = '\u0000overflow';

/**
 * The cause of a reason, for a key: what comes before the first ": " (the details come
 * after it: a schema error, a parser's message), with quoted text and numbers left out,
 * since a client chooses those (a topic, a size), and bounded.
 */
export function causeOf(reason: string): string {
  const colon = reason.indexOf(': ');
  const head = colon >= 0 ? reason.slice(0, colon) : reason;
  return head
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\d+/g, '#')
    .slice(0, 120);
}

/** "192.0.2.7:51234" -> "192.0.2.7": a client's port changes with every connection. */
export function hostOf(address: string): string {
  const colon = address.lastIndexOf(':');
  return colon > 0 && /^\d+$/.test(address.slice(colon + 1)) ? address.slice(0, colon) : address;
}

export class LogLimiter {
  private readonly keys = new Map<string, KeyState>();
  private readonly intervalMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private heldTotal = 0;

  constructor(
    private readonly log: Log,
    options: LogLimiterOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? DEFAULT_LOG_INTERVAL_MS;
    this.maxKeys = options.maxKeys ?? 1000;
    this.now = options.now ?? (() => Date.now());
  }

  info(key: string, line: string): void {
    this.write('info', key, line);
  }

  warn(key: string, line: string): void {
    this.write('warn', key, line);
  }

  error(key: string, line: string): void {
    this.write('error', key, line);
  }

  /** Lines counted and not (yet) written, over the limiter's life. */
  get held(): number {
    return this.heldTotal;
  }

  /** Writes every count still waiting, now, and forgets the keys (on stop). */
  flush(): void {
    this.clearTimer();
    for (const state of this.keys.values()) if (state.held > 0) this.summary(state);
    this.keys.clear();
  }

  private write(level: Level, key: string, line: string): void {
    const at = this.now();
    let state = this.keys.get(key);
    if (!state) {
      if (this.keys.size >= this.maxKeys) this.forgetQuiet(at);
      if (this.keys.size >= this.maxKeys) {
        // Too many causes at once: the rest share one key, so they cannot flood either.
        key = OVERFLOW_KEY;
        state = this.keys.get(key);
        line = `(one of more than ${this.maxKeys} clients and causes at once) ${line}`;
      }
    }
    if (!state) {
      this.keys.set(key, { level, lastAt: at, held: 0, example: '' });
      this.log[level](line);
      return;
    }
    const over = at - state.lastAt >= this.intervalMs;
    if (over && state.held === 0) {
      // Quiet for a whole interval: as if it were new.
      state.lastAt = at;
      this.log[level](line);
      return;
    }
    this.heldTotal++;
    if (state.held === 0) state.example = line;
    state.held++;
    if (over) {
      // The interval is over and its timer has not run yet: this one is in the count.
      this.summary(state, at);
      return;
    }
    this.schedule(state.lastAt + this.intervalMs);
  }

  private summary(state: KeyState, at = this.now()): void {
    this.log[state.level](
      `${state.held} more like this since ${new Date(state.lastAt).toISOString()} ` +
        `(one line per client and cause every ${this.intervalMs / 1000} s); the first: ${state.example}`,
    );
    state.lastAt = at;
    state.held = 0;
    state.example = '';
  }

  /** Drops keys with nothing counted whose interval is over: they would write at once anyway. */
  private forgetQuiet(at: number): void {
    for (const [key, state] of this.keys) {
      if (state.held === 0 && at - state.lastAt >= this.intervalMs) this.keys.delete(key);
    }
  }

  private schedule(dueAt: number): void {
    if (this.timer && this.timerAt <= dueAt) return;
    this.clearTimer();
    this.timerAt = dueAt;
    this.timer = setTimeout(() => this.due(), Math.max(0, dueAt - this.now()));
    this.timer.unref();
  }

  /** Writes the counts whose interval is over; waits for the next one still running. */
  private due(): void {
    this.timer = null;
    this.timerAt = Infinity;
    const at = this.now();
    let next = Infinity;
    for (const state of this.keys.values()) {
      if (state.held === 0) continue;
      if (at - state.lastAt >= this.intervalMs) this.summary(state, at);
      else next = Math.min(next, state.lastAt + this.intervalMs);
    }
    this.forgetQuiet(at);
    if (next < Infinity) this.schedule(next);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }
}
