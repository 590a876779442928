/**
 * One timer for every countdown and age on the page: elements subscribe while they are
 * connected, the timer runs only while someone listens, and all of them read the same
 * `now`, so two countdowns never disagree by a tick.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';

type Tick = (now: number) => void;

export class SharedClock {
  private readonly periodMs: number;
  private readonly listeners: Set<Tick>;
  private timer: ReturnType<typeof setTimeout> | null;
  private current: number;

  constructor(periodMs = 1_000) {
    this.periodMs = periodMs;
    this.listeners = new Set();
    this.timer = null;
    this.current = Date.now();
  }

  /** The time of the last tick while running; the real time otherwise. */
  get now(): number {
    return this.timer === null ? Date.now() : this.current;
  }

  subscribe(listener: Tick): () => void {
    this.listeners.add(listener);
    if (this.timer === null) this.start();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  private start(): void {
    this.current = Date.now();
    this.schedule();
  }

  private stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Ticks on the second boundary, so "in 9 min 12 s" changes when a wall clock would. */
  private schedule(): void {
    const delay = this.periodMs - (Date.now() % this.periodMs) + 5;
    this.timer = setTimeout(() => {
      this.current = Date.now();
      for (const listener of [...this.listeners]) listener(this.current);
      if (this.timer !== null) this.schedule();
    }, delay);
  }
}

/** The page's one clock. */
export const clock = new SharedClock();

/** Re-renders its host on every tick while the host is connected. */
export class ClockController implements ReactiveController {
  private readonly host: ReactiveControllerHost;
  private readonly source: SharedClock;
  private unsubscribe: (() => void) | null;

  constructor(host: ReactiveControllerHost, source: SharedClock = clock) {
    this.host = host;
    this.source = source;
    this.unsubscribe = null;
    host.addController(this);
  }

  get now(): number {
    return this.source.now;
  }

  hostConnected(): void {
    this.unsubscribe ??= this.source.subscribe(() => this.host.requestUpdate());
  }

  hostDisconnected(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }
}
