/**
 * A signed-in console: logs in and out, loads the lists and keeps them current from the
 * live stream. Components call these methods and read the store; none of them fetches.
 *
 * Keeping the lists right across a reconnect: every time the stream opens, the lists
 * are reloaded (shared/api/live.ts: "a client that reconnects reloads the lists").
 * Events that arrive while a reload is in flight are applied at once and again on top
 * of the reloaded lists, so a snapshot taken before an event cannot undo it.
 */
import { ApiClient, ApiRequestError } from './api.js';
import { LiveConnection, type LiveHandlers, type LiveStream } from './live.js';
import type { Store } from './store.js';
import type { LiveEvent, TicketScope } from './types.js';
import { strings } from '../strings.js';

export type LiveFactory = (url: string, handlers: LiveHandlers) => LiveStream;

const defaultLive: LiveFactory = (url, handlers) => new LiveConnection(url, handlers);

export class Session {
  readonly store: Store;
  private readonly api: ApiClient;
  private readonly makeLive: LiveFactory;
  private live: LiveStream | null;
  /** Numbers the reloads, so an older one that finishes late is dropped. */
  private reloadSeq: number;
  /** Events seen during the reloads in flight, replayed on top of their result. */
  private readonly replay: Map<number, LiveEvent[]>;

  constructor(store: Store, api: ApiClient = new ApiClient(), makeLive: LiveFactory = defaultLive) {
    this.store = store;
    this.api = api;
    this.makeLive = makeLive;
    this.live = null;
    this.reloadSeq = 0;
    this.replay = new Map();
  }

  /**
   * On page load: the HttpOnly cookie of an earlier login may still be valid, which only
   * a request can tell. Signed in if the lists load, the login screen otherwise.
   */
  async resume(): Promise<void> {
    this.store.update({ session: 'checking' });
    try {
      await this.reload();
    } catch (error) {
      const notice = error instanceof ApiRequestError && !error.needsLogin ? error.message : null;
      this.store.reset('signed-out', notice);
      return;
    }
    this.store.update({ session: 'signed-in' });
    this.startLive();
  }

  /** Throws ApiRequestError (wrong password, server unreachable) for the login form. */
  async login(username: string, password: string): Promise<void> {
    const answer = await this.api.login({ username, password });
    this.store.update({
      user: { username: answer.username, role: answer.role },
      notice: null,
    });
    // Signed in from here on; a list that fails to load shows as a problem banner.
    const ended = await this.reload().then(
      () => false,
      (error: unknown) => this.handleReloadError(error),
    );
    if (ended) return;
    this.store.update({ session: 'signed-in' });
    this.startLive();
  }

  async logout(): Promise<void> {
    this.stop();
    try {
      await this.api.logout();
    } finally {
      this.store.reset('signed-out');
    }
  }

  /** Loads resolved tickets too (scope "all"), or goes back to the open ones. */
  async showResolved(show: boolean): Promise<void> {
    const scope: TicketScope = show ? 'all' : 'open';
    if (scope === this.store.get().ticketScope) return;
    if (!show) {
      this.store.update({ ticketScope: 'open' });
      return;
    }
    this.store.update({ loadingTickets: true });
    try {
      await this.reload(scope);
    } catch (error) {
      this.handleReloadError(error);
    } finally {
      this.store.update({ loadingTickets: false });
    }
  }

  /** Stops the live stream; the store keeps what it shows. */
  stop(): void {
    this.live?.stop();
    this.live = null;
    this.reloadSeq += 1;
    this.replay.clear();
  }

  /** Opens the live stream of a signed-in session, e.g. when the app is attached again. */
  startLive(): void {
    if (this.live !== null || this.store.get().session !== 'signed-in') return;
    this.live = this.makeLive(this.api.liveUrl(), {
      event: (event) => this.onLiveEvent(event),
      state: (connection) => this.store.update({ connection }),
      opened: () => {
        this.reload().catch((error: unknown) => this.handleReloadError(error));
      },
      // An HTTP error of the stream is not visible to EventSource; a request tells whether
      // the session ended, so the console goes back to the login screen instead of retrying.
      failed: () => {
        this.reload().catch((error: unknown) => this.handleReloadError(error, true));
      },
    });
    this.live.start();
  }

  private onLiveEvent(event: LiveEvent): void {
    this.store.apply(event);
    for (const pending of this.replay.values()) pending.push(event);
  }

  /** Loads devices and tickets; the store changes only if no newer reload started. */
  private async reload(scope: TicketScope = this.store.get().ticketScope): Promise<void> {
    const seq = ++this.reloadSeq;
    const pending: LiveEvent[] = [];
    this.replay.set(seq, pending);
    try {
      const [devices, tickets] = await Promise.all([
        this.api.fetchDevices(),
        this.api.fetchTickets(scope),
      ]);
      if (seq !== this.reloadSeq) return;
      this.store.setDevices(devices);
      this.store.setTickets(tickets, scope);
      for (const event of pending) this.store.apply(event);
      this.store.update({ problem: null });
    } finally {
      this.replay.delete(seq);
    }
  }

  /** `quiet`: the stream is down and the badge already says so; only a lost session counts. */
  /** Returns true when the error ended the session. */
  private handleReloadError(error: unknown, quiet = false): boolean {
    if (error instanceof ApiRequestError && error.needsLogin) {
      this.stop();
      this.store.reset('signed-out', strings.login.sessionEnded);
      return true;
    }
    if (!quiet) {
      const message = error instanceof Error ? error.message : String(error);
      this.store.update({ problem: strings.errors.loadFailed(message) });
    }
    return false;
  }
}
