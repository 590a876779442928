/**
 * The live stream: server-sent events of GET /api/live (shared/api/live.ts). Each event's
 * SSE `event:` field is the LiveEvent's `type` and `data:` its JSON.
 *
 * The browser's EventSource reconnects by itself only after a network error and at a
 * fixed pace, and gives up for good after an HTTP error (HTML Living Standard, 9.2
 * "Server-sent events": a non-200 answer "fails the connection"). So on every error this
 * closes the source and opens a new one with exponential backoff and jitter, which also
 * spreads the reconnects of many consoles after a broker restart.
 */
import type { ConnectionState, LiveEvent } from './types.js';

export type { ConnectionState } from './types.js';

export interface LiveHandlers {
  event(event: LiveEvent): void;
  state(state: ConnectionState): void;
  /** The stream is open; events from here on arrive. Reload the lists now. */
  opened(reconnected: boolean): void;
  /** The stream failed; a retry is scheduled. */
  failed(): void;
}

export interface Backoff {
  initialMs: number;
  maxMs: number;
  factor: number;
}

export const defaultBackoff: Backoff = { initialMs: 1_000, maxMs: 30_000, factor: 2 };

const eventTypes: readonly LiveEvent['type'][] = ['device', 'ticket'];

/** What the session needs of a live stream (a fake in tests). */
export interface LiveStream {
  readonly state: ConnectionState;
  start(): void;
  stop(): void;
}

export class LiveConnection implements LiveStream {
  private readonly url: string;
  private readonly handlers: LiveHandlers;
  private readonly backoff: Backoff;
  private source: EventSource | null;
  private retryTimer: ReturnType<typeof setTimeout> | null;
  private attempt: number;
  private everOpened: boolean;
  private current: ConnectionState;

  constructor(url: string, handlers: LiveHandlers, backoff: Backoff = defaultBackoff) {
    this.url = url;
    this.handlers = handlers;
    this.backoff = backoff;
    this.source = null;
    this.retryTimer = null;
    this.attempt = 0;
    this.everOpened = false;
    this.current = 'idle';
  }

  get state(): ConnectionState {
    return this.current;
  }

  start(): void {
    if (this.current !== 'idle') return;
    this.attempt = 0;
    this.everOpened = false;
    this.open('connecting');
  }

  stop(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.source?.close();
    this.source = null;
    this.setState('idle');
  }

  private open(state: ConnectionState): void {
    this.retryTimer = null;
    this.setState(state);
    const source = new EventSource(this.url, { withCredentials: true });
    this.source = source;

    source.addEventListener('open', () => {
      if (this.source !== source) return;
      const reconnected = this.everOpened;
      this.everOpened = true;
      this.attempt = 0;
      this.setState('live');
      this.handlers.opened(reconnected);
    });
    for (const type of eventTypes) {
      source.addEventListener(type, (message) => {
        if (this.source !== source) return;
        // Every event a stream dispatches is a MessageEvent (HTML 9.2.6); the DOM typings
        // know that for named events only through a map, which Node's typings lack.
        this.dispatch(type, (message as MessageEvent).data as unknown);
      });
    }
    source.addEventListener('error', () => {
      if (this.source !== source) return;
      source.close();
      this.source = null;
      this.scheduleRetry();
      this.handlers.failed();
    });
  }

  private scheduleRetry(): void {
    const ceiling = Math.min(
      this.backoff.maxMs,
      this.backoff.initialMs * this.backoff.factor ** this.attempt,
    );
    this.attempt += 1;
    // "Equal jitter": at least half the ceiling, so retries never bunch up at zero.
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.setState('reconnecting');
    this.retryTimer = setTimeout(() => this.open('reconnecting'), delay);
  }

  private dispatch(type: LiveEvent['type'], data: unknown): void {
    if (typeof data !== 'string') return;
    let event: unknown;
    try {
      event = JSON.parse(data);
    } catch {
      console.warn(`vigil: ignored a live "${type}" event that is not JSON`);
      return;
    }
    if (!isLiveEvent(event, type)) {
      console.warn(`vigil: ignored a live "${type}" event of an unknown shape`);
      return;
    }
    this.handlers.event(event);
  }

  private setState(state: ConnectionState): void {
    if (state === this.current) return;
    this.current = state;
    this.handlers.state(state);
  }
}

/** The shape check the store relies on: the type matches and the payload has its id. */
function isLiveEvent(value: unknown, type: LiveEvent['type']): value is LiveEvent {
  if (typeof value !== 'object' || value === null) return false;
  const event = value as Record<string, unknown>;
  if (event.type !== type) return false;
  const payload = event[type];
  if (typeof payload !== 'object' || payload === null) return false;
  const id = (payload as Record<string, unknown>).id;
  return type === 'device' ? typeof id === 'string' : typeof id === 'number';
}
