import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { ClockController } from '../controllers/clock.js';
import type { Device, DeviceStatus } from '../data/types.js';
import { formatAgo, formatFull } from '../format.js';
import { strings } from '../strings.js';

/** The order of the counts above the board: what needs attention first. */
const statusOrder: readonly DeviceStatus[] = ['down', 'degraded', 'unknown', 'up'];

const byId = new Intl.Collator(undefined, { numeric: true });

/**
 * Every device as a tile of fixed size, in a stable order (by id) so a status change
 * recolours a tile without moving it; the counts per status sit above.
 *
 * Test hooks: each tile is `[data-testid="device-tile"][data-device-id][data-status]
 * [data-kind]`; each count is `[data-testid="status-count"][data-status][data-count]`.
 */
@customElement('vigil-device-board')
export class VigilDeviceBoard extends LitElement {
  static override styles = css`
    :host {
      display: block;
    }
    header {
      display: flex;
      flex-wrap: wrap;
      align-items: baseline;
      gap: 0.5rem 1rem;
      margin-bottom: 0.75rem;
    }
    h2 {
      margin: 0;
      font-size: 1.1rem;
    }
    .counts {
      display: flex;
      flex-wrap: wrap;
      gap: 0.5rem;
      margin: 0;
      padding: 0;
      list-style: none;
    }
    .count {
      display: inline-flex;
      align-items: center;
      gap: 0.35rem;
      padding: 0.15rem 0.55rem;
      border-radius: 999px;
      font-size: 0.875rem;
      font-variant-numeric: tabular-nums;
      color: var(--text);
      background: var(--bg);
      border: 1px solid var(--edge);
    }
    .count strong {
      font-weight: 700;
    }
    .count[data-count='0'] {
      opacity: 0.65;
    }
    .grid {
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(15rem, 1fr));
      gap: 0.6rem;
      margin: 0;
      padding: 0;
      list-style: none;
    }
    .tile {
      box-sizing: border-box;
      /* A fixed height: a tile never grows when reasons appear, so the grid never jumps. */
      height: 9.5rem;
      display: grid;
      grid-template-rows: auto auto auto 1fr auto;
      gap: 0.15rem;
      padding: 0.6rem 0.75rem 0.5rem;
      background: var(--vigil-surface);
      border: 1px solid var(--vigil-border);
      border-left: 6px solid var(--edge);
      border-radius: var(--vigil-radius);
      overflow: hidden;
    }
    [data-status='up'] {
      --edge: var(--vigil-up);
      --bg: var(--vigil-up-bg);
      --text: var(--vigil-up-text);
    }
    [data-status='degraded'] {
      --edge: var(--vigil-degraded);
      --bg: var(--vigil-degraded-bg);
      --text: var(--vigil-degraded-text);
    }
    [data-status='down'] {
      --edge: var(--vigil-down);
      --bg: var(--vigil-down-bg);
      --text: var(--vigil-down-text);
    }
    [data-status='unknown'] {
      --edge: var(--vigil-unknown);
      --bg: var(--vigil-unknown-bg);
      --text: var(--vigil-unknown-text);
    }
    .top {
      display: flex;
      justify-content: space-between;
      align-items: center;
      gap: 0.5rem;
    }
    .status {
      display: inline-flex;
      align-items: center;
      gap: 0.3rem;
      padding: 0 0.45rem;
      border-radius: 999px;
      font-size: 0.8rem;
      font-weight: 700;
      color: var(--text);
      background: var(--bg);
    }
    .dot {
      width: 0.55rem;
      height: 0.55rem;
      border-radius: 50%;
      background: var(--edge);
      flex: none;
    }
    .kind {
      font-size: 0.75rem;
      color: var(--vigil-muted);
      text-transform: uppercase;
      letter-spacing: 0.04em;
    }
    .name {
      margin: 0;
      font-size: 0.95rem;
      font-weight: 600;
      white-space: nowrap;
      overflow: hidden;
      text-overflow: ellipsis;
    }
    .id {
      font-family: var(--vigil-mono);
      font-size: 0.75rem;
      color: var(--vigil-muted);
      white-space: nowrap;
      overflow: hidden;
      text-overflow: ellipsis;
    }
    .reasons {
      align-self: start;
      margin: 0;
      padding: 0;
      list-style: none;
      font-size: 0.8rem;
      line-height: 1.3;
      /* Two lines at most, whatever the browser does with line-clamp. */
      max-height: calc(2 * 1.3em);
      overflow: hidden;
      display: -webkit-box;
      -webkit-box-orient: vertical;
      -webkit-line-clamp: 2;
      line-clamp: 2;
    }
    .reasons li {
      display: inline;
    }
    .reasons li + li::before {
      content: ' · ';
    }
    .reasons.none {
      color: var(--vigil-muted);
    }
    .seen {
      font-size: 0.75rem;
      color: var(--vigil-muted);
      font-variant-numeric: tabular-nums;
      white-space: nowrap;
      overflow: hidden;
      text-overflow: ellipsis;
    }
    .empty {
      padding: 2rem 1rem;
      text-align: center;
      color: var(--vigil-muted);
      background: var(--vigil-surface);
      border: 1px dashed var(--vigil-border);
      border-radius: var(--vigil-radius);
    }
  `;

  @property({ attribute: false }) devices: readonly Device[] = [];

  private readonly clock = new ClockController(this);
  /** Sorted once per new list, not on every tick of the clock. */
  private ordered: readonly Device[] = [];
  private counts = new Map<DeviceStatus, number>();

  protected override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (!changed.has('devices')) return;
    this.ordered = [...this.devices].sort((a, b) => byId.compare(a.id, b.id));
    this.counts = new Map(statusOrder.map((status) => [status, 0]));
    for (const device of this.devices) {
      this.counts.set(device.status, (this.counts.get(device.status) ?? 0) + 1);
    }
  }

  override render() {
    const t = strings.devices;
    const { ordered, counts } = this;

    return html`
      <header>
        <h2 id="devices-title">${t.title}</h2>
        <ul class="counts" aria-label=${t.countsLabel}>
          ${statusOrder.map(
            (status) => html`
              <li
                class="count"
                data-testid="status-count"
                data-status=${status}
                data-count=${counts.get(status) ?? 0}
              >
                <span class="dot" aria-hidden="true"></span>
                ${t.status[status]} <strong>${counts.get(status) ?? 0}</strong>
              </li>
            `,
          )}
        </ul>
      </header>
      ${
        ordered.length === 0
          ? html`<p class="empty">${t.empty}</p>`
          : html`<ul class="grid" aria-labelledby="devices-title">
              ${repeat(
                ordered,
                (device) => device.id,
                (device) => this.renderTile(device),
              )}
            </ul>`
      }
    `;
  }

  private renderTile(device: Device) {
    const t = strings.devices;
    const now = this.clock.now;
    const reasons = device.reasons;
    return html`
      <li
        class="tile"
        data-testid="device-tile"
        data-device-id=${device.id}
        data-status=${device.status}
        data-kind=${device.kind}
      >
        <div class="top">
          <span class="status"
            ><span class="dot" aria-hidden="true"></span>${t.status[device.status]}</span
          >
          <span class="kind">${t.kind[device.kind]}</span>
        </div>
        <h3 class="name" title=${device.name}>${device.name}</h3>
        <div class="id" title=${device.xaddr}>${device.id}</div>
        ${
          reasons.length === 0
            ? html`<p class="reasons none">${device.status === 'up' ? t.noReasons : nothing}</p>`
            : html`<ul class="reasons" title=${reasons.map((r) => r.message).join('\n')}>
                ${reasons.map(
                  (reason) => html`<li data-reason=${reason.code}>${reason.message}</li>`,
                )}
              </ul>`
        }
        <div class="seen">
          ${
            device.lastSeen === null
              ? t.neverSeen
              : html`<time datetime=${device.lastSeen} title=${formatFull(device.lastSeen)}
                  >${t.lastSeen(formatAgo(device.lastSeen, now))}</time
                >`
          }
        </div>
      </li>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vigil-device-board': VigilDeviceBoard;
  }
}
