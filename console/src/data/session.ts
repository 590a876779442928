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
import type { LiveEvent, Locale, TicketScope } from './types.js';
import { setLanguage, strings } from '../strings.js';
import { storeLocale, storeTimeZone } from './preferences.js';
import { setScreenZone } from '../format.js';

/** Live events are applied together at most this often, so a burst costs one render. */
const BATCH_MS = 50;
/**
 * The site roll-up is the broker's figure (GET /api/rollup): asked again at once after a
 * live change but at most this often (a burst of a thousand costs one request), and every
 * ROLLUP_IDLE_MS anyway, because a planned maintenance window starts by the clock alone.
 */
const ROLLUP_MS = 500;
const ROLLUP_IDLE_MS = 30_000;

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
  /** Live events waiting for the next batch. */
  private pending: LiveEvent[];
  private batchTimer: ReturnType<typeof setTimeout> | null;
  private rollupTimer: ReturnType<typeof setTimeout> | null;
  private rollupDue: number;
  /** When the last roll-up request started, ms. */
  private rollupLast: number;
  /** A roll-up request is in flight; another is due when it ends. */
  private rollupBusy: boolean;
  private rollupAgain: boolean;

  constructor(store: Store, api: ApiClient = new ApiClient(), makeLive: LiveFactory = defaultLive) {
    this.store = store;
    this.api = api;
    this.makeLive = makeLive;
    this.live = null;
    this.reloadSeq = 0;
    this.replay = new Map();
    this.pending = [];
    this.batchTimer = null;
    this.rollupTimer = null;
    this.rollupDue = 0;
    this.rollupLast = 0;
    this.rollupBusy = false;
    this.rollupAgain = false;
  }

  /** The API client, for the screens that load their own data (a ticket, a report). */
  get client(): ApiClient {
    return this.api;
  }

  /**
   * Switches the language now, remembers it in this browser and, when signed in, for the
   * user on the server (so it follows them to another desk).
   */
  async setLocale(locale: Locale): Promise<void> {
    this.useLocale(locale);
    storeLocale(locale);
    if (this.store.get().session !== 'signed-in') return;
    await this.api.saveLocale(locale).catch(() => {
      // Kept in this browser; the server learns it at the next switch.
    });
  }

  /** Switches the screens' zone now and remembers it for the user on the server. */
  async setTimeZone(timeZone: string | null): Promise<void> {
    this.useTimeZone(timeZone);
    if (this.store.get().session !== 'signed-in') return;
    await this.api.saveTimeZone(timeZone).catch(() => {
      // Shown in this page; the server learns it at the next switch.
    });
  }

  private useTimeZone(timeZone: string | null): void {
    setScreenZone(timeZone);
    // Also for the login screen of this browser, as the language (./preferences.ts).
    storeTimeZone(timeZone);
    this.store.update({ timeZone });
  }

  private useLocale(locale: Locale): void {
    setLanguage(locale);
    // The page's language, for screen readers and the CJK font choice (absent in tests).
    const page = (globalThis as { document?: { documentElement: { lang: string } } }).document;
    if (page !== undefined) page.documentElement.lang = locale;
    this.store.update({ locale });
  }

  /** Who is signed in and the language they chose; a missing route is no failure. */
  private async loadSessionInfo(): Promise<void> {
    try {
      const info = await this.api.fetchSession();
      this.useTimeZone(info.timeZone);
      this.store.update({
        user: { username: info.username, role: info.role, customerId: info.customerId },
      });
      if (info.locale !== null && info.locale !== this.store.get().locale) {
        this.useLocale(info.locale);
        storeLocale(info.locale);
      } else if (info.locale === null) {
        // First sign-in of this user: what this browser shows becomes their choice.
        await this.api.saveLocale(this.store.get().locale).catch(() => undefined);
      }
    } catch (error) {
      if (error instanceof ApiRequestError && error.needsLogin) throw error;
    }
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
    await this.loadSessionInfo().catch(() => undefined);
    this.store.update({ session: 'signed-in' });
    this.startLive();
  }

  /** Throws ApiRequestError (wrong password, server unreachable) for the login form. */
  async login(username: string, password: string): Promise<void> {
    const answer = await this.api.login({ username, password });
    this.store.update({
      user: { username: answer.username, role: answer.role, customerId: answer.customerId },
      notice: null,
    });
    await this.loadSessionInfo().catch(() => undefined);
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
      // The login screen keeps the zone, as it keeps the language: what it says (a lock's
      // end) is in the zone of the last user here, with the offset; the next user's own
      // setting applies once they sign in.
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

  /**
   * A change this console made (the API's answer to an action): shown at once, without
   * waiting for its live event, and the site roll-up is asked again.
   */
  applyOwn(events: readonly LiveEvent[]): void {
    this.store.applyAll(events);
    this.scheduleRollup('soon');
  }

  /** Stops the live stream; the store keeps what it shows. */
  stop(): void {
    if (this.batchTimer !== null) clearTimeout(this.batchTimer);
    this.batchTimer = null;
    if (this.rollupTimer !== null) clearTimeout(this.rollupTimer);
    this.rollupTimer = null;
    this.rollupAgain = false;
    this.pending = [];
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
    this.pending.push(event);
    this.batchTimer ??= setTimeout(() => this.flush(), BATCH_MS);
    for (const pending of this.replay.values()) pending.push(event);
  }

  private flush(): void {
    this.batchTimer = null;
    const events = this.pending;
    this.pending = [];
    this.store.applyAll(events);
    this.scheduleRollup('soon');
  }

  /**
   * Asks for the roll-up: 'soon' after a change (at once, or ROLLUP_MS after the previous
   * request, so a burst costs one request per ROLLUP_MS), 'idle' after ROLLUP_IDLE_MS. An
   * earlier request already due is kept; a change during a request asks once more after.
   */
  private scheduleRollup(when: 'soon' | 'idle'): void {
    if (this.live === null) return;
    if (this.rollupBusy) {
      if (when === 'soon') this.rollupAgain = true;
      return;
    }
    const now = Date.now();
    const due = when === 'soon' ? Math.max(now, this.rollupLast + ROLLUP_MS) : now + ROLLUP_IDLE_MS;
    if (this.rollupTimer !== null) {
      // Keep the earlier request: a steady stream of changes must not postpone it forever.
      if (this.rollupDue <= due) return;
      clearTimeout(this.rollupTimer);
    }
    this.rollupDue = due;
    this.rollupTimer = setTimeout(() => void this.refreshRollup(), due - now);
  }

  private async refreshRollup(): Promise<void> {
    this.rollupTimer = null;
    this.rollupBusy = true;
    this.rollupAgain = false;
    this.rollupLast = Date.now();
    const seq = this.reloadSeq;
    try {
      const rollup = await this.api.fetchRollup();
      // A reload or sign-out since the request started brought newer figures (or none).
      if (seq === this.reloadSeq && this.live !== null) this.store.update({ rollup });
    } catch (error) {
      if (error instanceof ApiRequestError && error.needsLogin) {
        this.handleReloadError(error);
        return;
      }
      // The stream's reconnect reloads everything; until then the last figures stay.
    } finally {
      this.rollupBusy = false;
    }
    this.scheduleRollup(this.rollupAgain ? 'soon' : 'idle');
  }

  /** Sites and maintenance windows; an older broker without these routes shows none. */
  private async optional<T>(load: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await load();
    } catch (error) {
      if (error instanceof ApiRequestError && error.needsLogin) throw error;
      return fallback;
    }
  }

  /** Loads devices and tickets; the store changes only if no newer reload started. */
  private async reload(scope: TicketScope = this.store.get().ticketScope): Promise<void> {
    const seq = ++this.reloadSeq;
    const pending: LiveEvent[] = [];
    this.replay.set(seq, pending);
    try {
      const [devices, tickets, sites, maintenance, rollup] = await Promise.all([
        this.api.fetchDevices(),
        this.api.fetchTickets(scope),
        this.optional(() => this.api.fetchSites(), []),
        this.optional(() => this.api.fetchMaintenance(), []),
        this.optional(() => this.api.fetchRollup(), []),
      ]);
      if (seq !== this.reloadSeq) return;
      this.store.setDevices(devices);
      this.store.setTickets(tickets, scope);
      this.store.applyAll(pending);
      this.store.update({ problem: null, sites, maintenance, rollup });
      // Events replayed on top of the snapshot may have changed the roll-up since.
      if (pending.length > 0) this.scheduleRollup('soon');
      else this.scheduleRollup('idle');
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
