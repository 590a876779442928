import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { StoreController } from '../controllers/store.js';
import { ApiRequestError } from '../data/api.js';
import { Session } from '../data/session.js';
import { Store, type ConsoleState } from '../data/store.js';
import type { Device, Ticket } from '../data/types.js';
import { controls, theme } from '../theme.js';
import { strings } from '../strings.js';
import type { LoginSubmitDetail } from './vigil-login.js';
import type { ShowResolvedDetail } from './vigil-ticket-list.js';
import './vigil-device-board.js';
import './vigil-login.js';
import './vigil-ticket-list.js';

/**
 * The console's shell: the login screen until signed in, then the header (site,
 * live-stream state, user, logout), the device board and the ticket desk.
 *
 * Test hooks: `[data-testid="connection"][data-state="live" | "reconnecting" | ...]`,
 * `[data-testid="logout"]`, `[data-testid="problem"]`, `[data-testid="site"]`.
 */
@customElement('vigil-app')
export class VigilApp extends LitElement {
  static override styles = [
    theme,
    controls,
    css`
      :host {
        display: block;
        min-height: 100vh;
        font-family: var(--vigil-font);
        font-size: 15px;
        line-height: 1.4;
        color: var(--vigil-text);
        background: var(--vigil-bg);
      }
      .bar {
        position: sticky;
        top: 0;
        z-index: 1;
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.5rem 1rem;
        padding: 0.55rem 1.25rem;
        background: var(--vigil-surface);
        border-bottom: 1px solid var(--vigil-border);
      }
      .brand {
        margin: 0;
        font-size: 1.15rem;
        font-weight: 700;
        letter-spacing: 0.02em;
      }
      .site {
        font-weight: 600;
        color: var(--vigil-muted);
      }
      .badge {
        display: inline-flex;
        align-items: center;
        gap: 0.35rem;
        padding: 0.1rem 0.6rem;
        border-radius: 999px;
        font-size: 0.8rem;
        font-weight: 700;
        color: var(--vigil-unknown-text);
        background: var(--vigil-unknown-bg);
      }
      .badge .dot {
        width: 0.55rem;
        height: 0.55rem;
        border-radius: 50%;
        background: var(--vigil-unknown);
      }
      .badge[data-state='live'] {
        color: var(--vigil-up-text);
        background: var(--vigil-up-bg);
      }
      .badge[data-state='live'] .dot {
        background: var(--vigil-up);
      }
      .badge[data-state='reconnecting'] {
        color: var(--vigil-degraded-text);
        background: var(--vigil-degraded-bg);
      }
      .badge[data-state='reconnecting'] .dot {
        background: var(--vigil-degraded);
        animation: pulse 1.2s ease-in-out infinite;
      }
      @keyframes pulse {
        50% {
          opacity: 0.3;
        }
      }
      @media (prefers-reduced-motion: reduce) {
        .badge .dot {
          animation: none !important;
        }
      }
      .user {
        margin-left: auto;
        font-size: 0.875rem;
        color: var(--vigil-muted);
      }
      .problem {
        margin: 0.75rem 1.25rem 0;
        padding: 0.5rem 0.75rem;
        border-radius: var(--vigil-radius);
        color: var(--vigil-down-text);
        background: var(--vigil-down-bg);
        border-left: 4px solid var(--vigil-down);
      }
      main {
        display: grid;
        grid-template-columns: minmax(0, 1fr) minmax(24rem, 34rem);
        align-items: start;
        gap: 1.25rem;
        padding: 1rem 1.25rem 2rem;
      }
      @media (max-width: 900px) {
        main {
          grid-template-columns: minmax(0, 1fr);
        }
      }
      .loading {
        padding: 20vh 1rem;
        text-align: center;
        color: var(--vigil-muted);
      }
    `,
  ];

  /** The data layer; the default talks to the page's own origin. Replaceable for tests. */
  @property({ attribute: false }) session: Session = new Session(new Store());

  @state() private _loginBusy = false;
  @state() private _loginError: string | null = null;

  private store: StoreController | null = null;
  private cachedDevices: { from: ConsoleState['devices']; list: Device[] } | null = null;
  private cachedTickets: { from: ConsoleState['tickets']; list: Ticket[] } | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    this.store ??= new StoreController(this, this.session.store);
    const current = this.session.store.get().session;
    if (current === 'checking') void this.session.resume();
    else if (current === 'signed-in') this.session.startLive();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.session.stop();
  }

  override render() {
    const state = this.session.store.get();
    switch (state.session) {
      case 'checking':
        return html`<p class="loading" role="status">${strings.loading}</p>`;
      case 'signed-out':
        return html`<vigil-login
          .busy=${this._loginBusy}
          .error=${this._loginError}
          .notice=${state.notice}
          @vigil-login-submit=${this._login}
        ></vigil-login>`;
      case 'signed-in':
        return this.renderConsole(state);
    }
  }

  private renderConsole(state: ConsoleState) {
    const devices = this.deviceList(state);
    const connection = state.connection;
    return html`
      <header class="bar">
        <h1 class="brand">${strings.appName}</h1>
        <span class="site" data-testid="site">${this.siteLabel(devices)}</span>
        <span
          class="badge"
          data-testid="connection"
          data-state=${connection}
          role="status"
          title=${strings.connection.hint[connection]}
          ><span class="dot" aria-hidden="true"></span>${strings.connection[connection]}</span
        >
        <span class="user">
          ${state.user === null ? nothing : strings.header.signedInAs(state.user.username)}
        </span>
        <button type="button" data-testid="logout" @click=${this._logout}>
          ${strings.header.logout}
        </button>
      </header>
      ${
        state.problem === null
          ? nothing
          : html`<p class="problem" role="alert" data-testid="problem">${state.problem}</p>`
      }
      <main>
        <vigil-device-board .devices=${devices}></vigil-device-board>
        <vigil-ticket-list
          .tickets=${this.ticketList(state)}
          ?showResolved=${state.ticketScope === 'all'}
          ?loading=${state.loadingTickets}
          @vigil-show-resolved-change=${this._showResolved}
        ></vigil-ticket-list>
      </main>
    `;
  }

  /** The API has no site names yet: the site ids the devices report stand for them. */
  private siteLabel(devices: readonly Device[]): string {
    const sites = [...new Set(devices.map((device) => device.siteId))];
    if (sites.length === 0) return strings.header.noSite;
    if (sites.length === 1) return sites[0] ?? '';
    return strings.header.sites(sites.length);
  }

  /** A new array only when the store's map changed, so the board re-renders only then. */
  private deviceList(state: ConsoleState): Device[] {
    if (this.cachedDevices?.from !== state.devices) {
      this.cachedDevices = { from: state.devices, list: [...state.devices.values()] };
    }
    return this.cachedDevices.list;
  }

  private ticketList(state: ConsoleState): Ticket[] {
    if (this.cachedTickets?.from !== state.tickets) {
      this.cachedTickets = { from: state.tickets, list: [...state.tickets.values()] };
    }
    return this.cachedTickets.list;
  }

  private async _login(event: CustomEvent<LoginSubmitDetail>): Promise<void> {
    this._loginBusy = true;
    this._loginError = null;
    try {
      await this.session.login(event.detail.username, event.detail.password);
    } catch (error) {
      this._loginError = error instanceof ApiRequestError ? error.message : strings.errors.network;
    } finally {
      this._loginBusy = false;
    }
  }

  private async _logout(): Promise<void> {
    this._loginError = null;
    await this.session.logout().catch(() => {
      // The session is closed locally whatever the server said; nothing else to do.
    });
  }

  private _showResolved(event: CustomEvent<ShowResolvedDetail>): void {
    void this.session.showResolved(event.detail.show);
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vigil-app': VigilApp;
  }
}
