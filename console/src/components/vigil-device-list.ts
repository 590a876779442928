import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { ClockController } from '../controllers/clock.js';
import type { Device } from '../data/types.js';
import { formatAgo, formatFull } from '../format.js';
import { href } from '../router.js';
import { reasonLabel, reasonWitness } from '../wording.js';
import { strings } from '../strings.js';

/** Every row has this height, so the window is arithmetic and rows never shift. */
const ROW_PX = 44;
/** Rows rendered above and below the visible ones, so a fast scroll shows no blank. */
const OVERSCAN = 30;

/**
 * The devices as a windowed table: only the rows in view (and a margin) are in the DOM,
 * so 10,000 devices cost what 60 do. Rows have a fixed height and a fixed order, so a
 * live update recolours a row in place.
 *
 * Test hooks: `[data-testid="device-tile"][data-device-id][data-status][data-kind]`.
 */
@customElement('vigil-device-list')
export class VigilDeviceList extends LitElement {
  static override styles = css`
    :host {
      display: block;
    }
    .head,
    .row {
      display: grid;
      grid-template-columns: 7.5rem minmax(10rem, 1.3fr) minmax(8rem, 2fr) 8rem 6rem;
      gap: 0.5rem;
      align-items: center;
      padding: 0 0.6rem;
    }
    .head {
      font-size: 0.8rem;
      font-weight: 600;
      color: var(--vigil-muted);
      padding-bottom: 0.3rem;
    }
    .viewport {
      position: relative;
      height: max(24rem, calc(100vh - 22rem));
      overflow-y: auto;
      background: var(--vigil-surface);
      border: 1px solid var(--vigil-border);
      border-radius: var(--vigil-radius);
      contain: strict;
    }
    .row {
      position: absolute;
      left: 0;
      right: 0;
      box-sizing: border-box;
      height: ${ROW_PX}px;
      border-bottom: 1px solid var(--vigil-border);
      border-left: 5px solid var(--vigil-unknown);
      color: var(--vigil-text);
      text-decoration: none;
      overflow: hidden;
      white-space: nowrap;
    }
    .row:hover,
    .row:focus-visible {
      background: var(--vigil-bg);
    }
    .row:focus-visible {
      outline: 3px solid var(--vigil-focus);
      outline-offset: -3px;
    }
    .row[data-status='up'] {
      border-left-color: var(--vigil-up);
    }
    .row[data-status='degraded'] {
      border-left-color: var(--vigil-degraded);
      background: var(--vigil-degraded-bg);
    }
    .row[data-status='down'] {
      border-left-color: var(--vigil-down);
      background: var(--vigil-down-bg);
    }
    .status {
      font-weight: 700;
    }
    .row[data-status='down'] .status {
      color: var(--vigil-down-text);
    }
    .row[data-status='degraded'] .status {
      color: var(--vigil-degraded-text);
    }
    .name {
      overflow: hidden;
      text-overflow: ellipsis;
    }
    .name small {
      color: var(--vigil-muted);
      margin-left: 0.3rem;
    }
    .reasons,
    .seen {
      overflow: hidden;
      text-overflow: ellipsis;
      font-size: 0.85rem;
    }
    .num {
      text-align: right;
      font-variant-numeric: tabular-nums;
    }
  `;

  @property({ attribute: false }) devices: readonly Device[] = [];

  @state() private _first = 0;
  @state() private _visible = 40;

  private readonly clock = new ClockController(this);
  private resizeObserver: ResizeObserver | null = null;

  override firstUpdated(): void {
    const viewport = this.renderRoot.querySelector<HTMLElement>('.viewport');
    if (viewport === null) return;
    this.resizeObserver = new ResizeObserver(() => {
      this._visible = Math.ceil(viewport.clientHeight / ROW_PX) + 1;
    });
    this.resizeObserver.observe(viewport);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resizeObserver?.disconnect();
    this.resizeObserver = null;
  }

  override render() {
    const c = strings.fleet.columns;
    const total = this.devices.length;
    const start = Math.max(0, this._first - OVERSCAN);
    const end = Math.min(total, this._first + this._visible + OVERSCAN);
    const rows = this.devices.slice(start, end);
    return html`
      <div class="head" aria-hidden="true">
        <span>${c.state}</span><span>${c.device}</span><span>${c.reasons}</span
        ><span>${c.lastSeen}</span><span class="num">${c.response}</span>
      </div>
      <div class="viewport" role="list" aria-label=${strings.devices.title} @scroll=${this._scroll}>
        <div style="height:${total * ROW_PX}px" aria-hidden="true"></div>
        ${repeat(
          rows,
          (device) => device.id,
          (device, i) => this.renderRow(device, start + i),
        )}
      </div>
    `;
  }

  private renderRow(device: Device, index: number) {
    const now = this.clock.now;
    const f = strings.fleet;
    const reasons = device.reasons.map(reasonLabel).join(' · ');
    const details = device.reasons
      .map((reason) =>
        reason.witness ? `${reason.message} (${reasonWitness(reason)})` : reason.message,
      )
      .join('; ');
    return html`<a
      class="row"
      role="listitem"
      href=${href.device(device.id)}
      style="top:${index * ROW_PX}px"
      data-testid="device-tile"
      data-device-id=${device.id}
      data-status=${device.status}
      data-kind=${device.kind}
    >
      <span class="status">${strings.devices.status[device.status]}</span>
      <span class="name"
        >${device.name}<small>${device.id} · ${strings.devices.kind[device.kind]}</small></span
      >
      <span class="reasons" title=${details}>${reasons === '' ? f.noValue : reasons}</span>
      <span class="seen" title=${device.lastSeen === null ? nothing : formatFull(device.lastSeen)}
        >${device.lastSeen === null ? strings.devices.neverSeen : formatAgo(device.lastSeen, now)}</span
      >
      <span class="num"
        >${device.responseMs === null ? f.noValue : f.responseMs(device.responseMs)}</span
      >
    </a>`;
  }

  private _scroll(event: Event): void {
    const top = (event.target as HTMLElement).scrollTop;
    const first = Math.floor(top / ROW_PX);
    // Re-render only when the window moves by a few rows, not on every scroll pixel.
    if (Math.abs(first - this._first) >= 5 || first === 0) this._first = first;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vigil-device-list': VigilDeviceList;
  }
}
