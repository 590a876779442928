/** Connects a Lit element to the store: it re-renders on every change while connected. */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ConsoleState, Store } from '../data/store.js';

export class StoreController implements ReactiveController {
  private readonly host: ReactiveControllerHost;
  private readonly store: Store;
  private unsubscribe: (() => void) | null;

  constructor(host: ReactiveControllerHost, store: Store) {
    this.host = host;
    this.store = store;
    this.unsubscribe = null;
    host.addController(this);
  }

  get state(): ConsoleState {
    return this.store.get();
  }

  hostConnected(): void {
    this.unsubscribe ??= this.store.subscribe(() => this.host.requestUpdate());
  }

  hostDisconnected(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }
}
