import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { StoreController } from '../controllers/store.js';
import { Session } from '../data/session.js';
import { Store, type ConsoleState } from '../data/store.js';
import type { Device, Ticket } from '../data/types.js';
import { keyed } from 'lit/directives/keyed.js';
import { RouteController } from '../controllers/route.js';
import { FleetOrder } from '../data/fleet.js';
import { initialLocale, storedTimeZone } from '../data/preferences.js';
import { href, type Route } from '../router.js';
import { controls, theme } from '../theme.js';
import { setLanguage, strings } from '../strings.js';
import { setScreenZone } from '../format.js';
import type { LocaleChangeDetail } from '../components/vigil-language-switch.js';
import type { ShowResolvedDetail } from '../components/vigil-ticket-list.js';
import { loginErrorText, type LoginSubmitDetail } from './vigil-login.js';
import '../components/vigil-language-switch.js';
import '../components/vigil-zone-switch.js';
import type { ZoneChangeDetail } from '../components/vigil-zone-switch.js';
import '../components/vigil-ticket-list.js';
import './vigil-device-page.js';
import './vigil-fleet.js';
import './vigil-incident-report.js';
import './vigil-inspection.js';
import './vigil-login.js';
import './vigil-maintenance.js';
import './vigil-ticket-desk.js';
import './vigil-ticket-page.js';
import './vigil-users.js';
import './vigil-oncall.js';
import './vigil-channels.js';
import './vigil-customers.js';
import './vigil-wall.js';

/**
 * The console's shell: the login screen until signed in, then the header (site,
 * live-stream state, user, logout, navigation) and the screen the route names (the
 * elements of src/views/; the widgets they are made of are in src/components/).
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
        padding: 1rem 1.25rem 2rem;
      }
      .split {
        display: grid;
        grid-template-columns: minmax(0, 1fr) minmax(24rem, 34rem);
        align-items: start;
        gap: 1.25rem;
      }
      @media (max-width: 900px) {
        .split {
          grid-template-columns: minmax(0, 1fr);
        }
      }
      nav {
        display: flex;
        flex-wrap: wrap;
        gap: 0.25rem;
      }
      nav a {
        padding: 0.3rem 0.6rem;
        border-radius: var(--vigil-radius);
        color: var(--vigil-text);
        text-decoration: none;
        font-weight: 600;
      }
      nav a[aria-current='page'] {
        color: var(--vigil-accent-text);
        background: var(--vigil-accent);
      }
      nav a:hover {
        text-decoration: underline;
      }
      .banner {
        margin: 0;
        padding: 0.5rem 1.25rem;
        font-weight: 600;
        color: var(--vigil-degraded-text);
        background: var(--vigil-degraded-bg);
        border-bottom: 2px solid var(--vigil-degraded);
      }
      .corner {
        position: fixed;
        top: 0.75rem;
        right: 1rem;
      }
      @media print {
        .bar,
        .banner,
        .problem {
          display: none !important;
        }
        main {
          padding: 0;
        }
        :host {
          background: #fff;
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
  private readonly router = new RouteController(this);
  /** The devices in the fleet's order (site, id), re-sorted only when one is added. */
  private readonly fleetOrder = new FleetOrder();
  private cachedTickets: { from: ConsoleState['tickets']; list: Ticket[] } | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    this.store ??= new StoreController(this, this.session.store);
    if (this.session.store.get().session === 'checking') {
      // Before sign-in: this browser's last choice, else its language and its zone.
      setScreenZone(storedTimeZone());
      const locale = initialLocale();
      setLanguage(locale);
      document.documentElement.lang = locale;
      this.session.store.update({ locale });
    }
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
        return html`<div class="corner">
            <vigil-language-switch
              .locale=${state.locale}
              @vigil-locale-change=${this._locale}
            ></vigil-language-switch>
          </div>
          ${keyed(
            state.locale,
            html`<vigil-login
              .busy=${this._loginBusy}
              .error=${this._loginError}
              .notice=${state.notice}
              @vigil-login-submit=${this._login}
            ></vigil-login>`,
          )}`;
      case 'signed-in':
        return this.renderConsole(state);
    }
  }

  private renderConsole(state: ConsoleState) {
    const route = this.router.route;
    // Keyed by language: a switch renders every screen again in the new language.
    if (route.screen === 'wall') {
      return keyed(state.locale, html`<vigil-wall .state=${state}></vigil-wall>`);
    }
    const devices = this.deviceList(state);
    const connection = state.connection;
    const n = strings.nav;
    const link = (to: string, label: string, screens: Route['screen'][]) =>
      html`<a href=${to} aria-current=${screens.includes(route.screen) ? 'page' : nothing}
        >${label}</a
      >`;
    return html`
      <header class="bar">
        <h1 class="brand">${strings.appName}</h1>
        ${
          state.user?.role === 'customer'
            ? this.renderPortalNav(state, link)
            : html`<nav aria-label=${n.label}>
                ${link(href.fleet(), n.fleet, ['fleet', 'device'])}
                ${link(href.tickets(), n.tickets, ['tickets', 'ticket', 'report'])}
                ${link(href.maintenance(), n.maintenance, ['maintenance'])}
                ${link(href.inspection(), n.inspection, ['inspection'])}
                ${link(href.oncall(), strings.oncall.nav, ['oncall'])}
                ${state.user?.role === 'admin' ? link(href.users(), n.users, ['users']) : nothing}
                ${state.user?.role === 'admin' ? link(href.channels(), strings.channels.nav, ['channels']) : nothing}
                ${link(href.customers(), strings.customers.nav, ['customers'])}
                ${link(href.wall(), n.wall, [])}
              </nav>`
        }
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
        <vigil-zone-switch
          .timeZone=${state.timeZone}
          @vigil-zone-change=${this._zone}
        ></vigil-zone-switch>
        <vigil-language-switch
          .locale=${state.locale}
          @vigil-locale-change=${this._locale}
        ></vigil-language-switch>
        <button type="button" data-testid="logout" @click=${this._logout}>
          ${strings.header.logout}
        </button>
      </header>
      ${
        connection === 'reconnecting'
          ? html`<p class="banner" role="alert" data-testid="disconnected">
              ${strings.connection.banner}
            </p>`
          : nothing
      }
      ${
        state.problem === null
          ? nothing
          : html`<p class="problem" role="alert" data-testid="problem">${state.problem}</p>`
      }
      ${keyed(
        // A new language or zone renders every screen again in it.
        `${state.locale}|${state.timeZone ?? ''}`,
        html`<main>${this.renderScreen(route, state, devices)}</main>`,
      )}
    `;
  }

  private renderScreen(route: Route, state: ConsoleState, devices: Device[]) {
    const session = this.session;
    switch (route.screen) {
      case 'fleet':
        return html`<div class="split">
          <vigil-fleet .state=${state} .devices=${devices} .siteId=${route.siteId}></vigil-fleet>
          <vigil-ticket-list
            .tickets=${this.ticketList(state)}
            .devices=${state.devices}
            ?showResolved=${state.ticketScope === 'all'}
            ?loading=${state.loadingTickets}
            @vigil-show-resolved-change=${this._showResolved}
          ></vigil-ticket-list>
        </div>`;
      case 'device':
        return html`<vigil-device-page
          .session=${session}
          .state=${state}
          .deviceId=${route.deviceId}
        ></vigil-device-page>`;
      case 'tickets':
        return html`<vigil-ticket-desk
          .session=${session}
          .tickets=${this.ticketList(state)}
          .state=${state}
        ></vigil-ticket-desk>`;
      case 'ticket':
        return html`<vigil-ticket-page
          .session=${session}
          .state=${state}
          .ticketId=${route.ticketId}
        ></vigil-ticket-page>`;
      case 'report':
        return html`<vigil-incident-report
          .session=${session}
          .ticketId=${route.ticketId}
        ></vigil-incident-report>`;
      case 'maintenance':
        return html`<vigil-maintenance .session=${session} .state=${state}></vigil-maintenance>`;
      case 'inspection':
        return html`<vigil-inspection
          .session=${session}
          .state=${state}
          .siteId=${route.siteId}
          .period=${route.period}
        ></vigil-inspection>`;
      case 'users':
        return html`<vigil-users .session=${session} .state=${state}></vigil-users>`;
      case 'oncall':
        return html`<vigil-oncall .session=${session} .state=${state}></vigil-oncall>`;
      case 'channels':
        return html`<vigil-channels .session=${session} .state=${state}></vigil-channels>`;
      case 'customers':
        return html`<vigil-customers .session=${session} .state=${state}></vigil-customers>`;
      case 'wall':
      case 'not-found':
        return html`<p role="alert">${strings.nav.notFound}</p>`;
    }
  }

  /**
   * A customer account's navigation (the portal, issue 16 part 5): its sites and devices,
   * its tickets with the "report a fault" form, its reports (the customers screen shows
   * its own customer only: issued reports to sign, figures, warranty) and the live
   * inspection; none of the NOC's screens
   * (the API refuses those to a customer anyway, broker/api/scope.ts).
   */
  private renderPortalNav(
    state: ConsoleState,
    link: (to: string, label: string, screens: Route['screen'][]) => unknown,
  ) {
    const p = strings.portal;
    return html`<span class="site" data-testid="portal-customer"
        >${p.label(state.user?.customerId ?? '')}</span
      >
      <nav aria-label=${strings.nav.label} data-testid="portal-nav">
        ${link(href.fleet(), p.nav.sites, ['fleet', 'device'])}
        ${link(href.tickets(), p.nav.tickets, ['tickets', 'ticket', 'report'])}
        ${link(href.customers(), p.nav.reports, ['customers'])}
        ${link(href.inspection(), p.nav.inspection, ['inspection'])}
      </nav>`;
  }

  private _zone(event: CustomEvent<ZoneChangeDetail>): void {
    void this.session.setTimeZone(event.detail.timeZone);
  }

  private _locale(event: CustomEvent<LocaleChangeDetail>): void {
    void this.session.setLocale(event.detail.locale);
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
    return this.fleetOrder.of(state.devices);
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
      this._loginError = loginErrorText(error);
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
