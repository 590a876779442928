import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { countByStatus, filterDevices, statusOrder, type DeviceFilter } from '../data/fleet.js';
import type { ConsoleState } from '../data/store.js';
import type { Device, DeviceStatus, SiteRollup } from '../data/types.js';
import { href } from '../router.js';
import { strings } from '../strings.js';
import { controls, page } from '../theme.js';
import '../components/vigil-device-list.js';

/**
 * The fleet: every site with its roll-up state and counts, then the devices of the chosen
 * site (or all) with a status filter and a search, in a windowed list.
 *
 * Test hooks: `[data-testid="site-card"][data-site-id][data-state]`,
 * `[data-testid="status-count"][data-status][data-count]`, `[data-testid="device-search"]`,
 * `[data-testid="status-filter"]`, `[data-testid="shown-count"]`.
 */
@customElement('vigil-fleet')
export class VigilFleet extends LitElement {
  static override styles = [
    controls,
    page,
    css`
      .sites {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(13rem, 1fr));
        gap: 0.5rem;
        margin: 0 0 1rem;
        padding: 0;
        list-style: none;
      }
      .site {
        display: block;
        box-sizing: border-box;
        height: 5.2rem;
        padding: 0.5rem 0.7rem;
        border-radius: var(--vigil-radius);
        border: 1px solid var(--vigil-border);
        border-left: 6px solid var(--vigil-up);
        background: var(--vigil-surface);
        color: var(--vigil-text);
        text-decoration: none;
      }
      .site[data-state='degraded'] {
        border-left-color: var(--vigil-degraded);
      }
      .site[data-state='down'],
      .site[data-state='unreachable'] {
        border-left-color: var(--vigil-down);
      }
      .site[data-state='maintenance'] {
        border-left-color: var(--vigil-info);
      }
      .site[aria-current='true'] {
        outline: 2px solid var(--vigil-accent);
      }
      .site strong {
        display: block;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .site small {
        color: var(--vigil-muted);
        font-variant-numeric: tabular-nums;
      }
      .counts {
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem;
        margin: 0 0 0.6rem;
        padding: 0;
        list-style: none;
      }
      .counts li {
        font-variant-numeric: tabular-nums;
      }
      .filters {
        margin-bottom: 0.6rem;
      }
      input[type='search'] {
        min-width: 16rem;
      }
    `,
  ];

  @property({ attribute: false }) state!: ConsoleState;
  /** Every device, in the fleet's order (site, then id). */
  @property({ attribute: false }) devices: readonly Device[] = [];
  @property({ attribute: false }) siteId: string | null = null;

  @state() private _status: DeviceStatus | null = null;
  @state() private _search = '';

  override render() {
    const f = strings.fleet;
    const sites = this.state.rollup;
    const inSite =
      this.siteId === null ? this.devices : this.devices.filter((d) => d.siteId === this.siteId);
    const counts = countByStatus(inSite);
    const filter: DeviceFilter = {
      siteId: this.siteId,
      status: this._status,
      search: this._search,
    };
    // `devices` comes in the fleet's order already (FleetOrder in vigil-app).
    const shown = filterDevices(this.devices, filter, true);
    return html`
      <section aria-labelledby="sites-title">
        <h2 id="sites-title">${f.sitesTitle}</h2>
        ${sites.length === 0 ? html`<p class="muted">${f.noSites}</p>` : nothing}
        <ul class="sites">
          <li>
            <a
              class="site"
              href=${href.fleet()}
              aria-current=${this.siteId === null ? 'true' : 'false'}
              data-state="ok"
              ><strong>${f.allSites}</strong><small>${f.deviceCount(this.devices.length)}</small></a
            >
          </li>
          ${sites.map((site) => this.renderSite(site))}
        </ul>
      </section>
      <section aria-labelledby="devices-title">
        <h2 id="devices-title">${strings.devices.title}</h2>
        <ul class="counts" aria-label=${strings.devices.countsLabel}>
          ${statusOrder.map(
            (status) =>
              html`<li>
                <span
                  class="pill"
                  data-state=${status}
                  data-testid="status-count"
                  data-status=${status}
                  data-count=${counts[status]}
                  >${strings.devices.status[status]} ${counts[status]}</span
                >
              </li>`,
          )}
        </ul>
        <div class="row filters">
          <label
            >${f.search}
            <input
              type="search"
              data-testid="device-search"
              placeholder=${f.searchPlaceholder}
              .value=${this._search}
              @input=${(e: Event) => (this._search = (e.target as HTMLInputElement).value)}
          /></label>
          <label
            >${f.statusFilter}
            <select
              data-testid="status-filter"
              @change=${(e: Event) => {
                const value = (e.target as HTMLSelectElement).value;
                this._status = value === '' ? null : (value as DeviceStatus);
              }}
            >
              <option value="">${f.anyStatus}</option>
              ${statusOrder.map(
                (s) =>
                  html`<option value=${s} ?selected=${this._status === s}>
                    ${strings.devices.status[s]}
                  </option>`,
              )}
            </select></label
          >
          <span class="muted" data-testid="shown-count" aria-live="polite"
            >${f.shown(shown.length, inSite.length)}</span
          >
        </div>
        ${
          inSite.length === 0
            ? html`<p class="muted" data-testid="no-devices">${strings.devices.empty}</p>`
            : shown.length === 0
              ? html`<p class="muted">${f.noMatch}</p>`
              : html`<vigil-device-list .devices=${shown}></vigil-device-list>`
        }
      </section>
    `;
  }

  private renderSite(site: SiteRollup) {
    const f = strings.fleet;
    return html`<li>
      <a
        class="site"
        href=${href.fleet(site.siteId)}
        data-testid="site-card"
        data-site-id=${site.siteId}
        data-state=${site.state}
        data-total=${site.total}
        aria-current=${this.siteId === site.siteId ? 'true' : 'false'}
      >
        <strong>${site.name}</strong>
        <span class="pill" data-state=${site.state}>${f.siteState[site.state]}</span>
        <small
          >${f.deviceCount(site.total)} · ${strings.devices.status.down} ${site.counts.down} ·
          ${strings.devices.status.degraded} ${site.counts.degraded}</small
        >
      </a>
    </li>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vigil-fleet': VigilFleet;
  }
}
