import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { ClockController } from '../controllers/clock.js';
import type { ConsoleState } from '../data/store.js';
import { byUrgency, deadlinesOf, isFinished } from '../data/tickets.js';
import { formatFull } from '../format.js';
import { href } from '../router.js';
import { ticketTitle } from '../wording.js';
import { strings } from '../strings.js';
import '../components/vigil-countdown.js';
import '../components/vigil-wall-alarm.js';

const deadlineAttr = {
  respond: 'respond-by',
  onSite: 'on-site-by',
  resolve: 'resolve-by',
  partReplaced: 'part-replaced-by',
  partShipped: 'part-shipped-by',
} as const;

/**
 * Wall mode for the NOC screen: large, high-contrast (white on black, at least 7:1,
 * WCAG 1.4.6), no interaction needed; sites by state, devices down, and the most urgent
 * open tickets with their running countdowns. An emergency nobody acknowledged flashes
 * and sounds until someone does (components/vigil-wall-alarm.ts). Test hook:
 * `[data-testid="wall"]`.
 */
@customElement('vigil-wall')
export class VigilWall extends LitElement {
  static override styles = css`
    :host {
      display: block;
      min-height: 100vh;
      box-sizing: border-box;
      padding: 1.5rem 2rem;
      background: #000;
      color: #fff;
      font-family: var(--vigil-font);
      font-size: 22px;
      --vigil-muted: #d1d5db;
      --vigil-up: #22c55e;
      --vigil-degraded: #facc15;
      --vigil-down: #f87171;
      --vigil-unknown: #9ca3af;
      --vigil-unknown-bg: #374151;
      --vigil-degraded-bg: #422006;
      --vigil-degraded-text: #fef08a;
      --vigil-down-bg: #450a0a;
      --vigil-down-text: #fecaca;
    }
    header {
      display: flex;
      justify-content: space-between;
      align-items: baseline;
    }
    h1 {
      margin: 0 0 1rem;
      font-size: 2.2rem;
    }
    .exit {
      color: #9ca3af;
      font-size: 0.8rem;
    }
    .figures {
      display: flex;
      gap: 3rem;
      margin-bottom: 1.5rem;
    }
    .figure strong {
      display: block;
      font-size: 4rem;
      line-height: 1;
      font-variant-numeric: tabular-nums;
    }
    .figure[data-alarm] strong {
      color: var(--vigil-down);
    }
    .sites {
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr));
      gap: 0.8rem;
      margin-bottom: 1.5rem;
    }
    .site {
      padding: 0.8rem 1rem;
      border-radius: 8px;
      border: 3px solid var(--vigil-up);
    }
    .site[data-state='degraded'] {
      border-color: var(--vigil-degraded);
    }
    .site[data-state='down'],
    .site[data-state='unreachable'] {
      border-color: var(--vigil-down);
      background: #2a0505;
    }
    .site[data-state='maintenance'] {
      border-color: #60a5fa;
    }
    .tickets {
      display: grid;
      gap: 0.6rem;
    }
    .ticket {
      display: grid;
      grid-template-columns: 8rem 1fr repeat(3, 12rem);
      gap: 1rem;
      align-items: center;
      padding: 0.6rem 1rem;
      border-left: 8px solid var(--vigil-degraded);
      background: #111;
    }
    .ticket[data-priority='emergency'] {
      border-left-color: var(--vigil-down);
    }
    .clear {
      font-size: 2.5rem;
      color: var(--vigil-up);
    }
  `;

  @property({ attribute: false }) state!: ConsoleState;

  private readonly clock = new ClockController(this);

  override render() {
    const w = strings.wall;
    const devices = [...this.state.devices.values()];
    const sites = this.state.rollup;
    const open = [...this.state.tickets.values()].filter((t) => !isFinished(t)).sort(byUrgency);
    const down = devices.filter((d) => d.status === 'down').length;
    return html`<div data-testid="wall" lang=${strings.locale}>
      <header>
        <h1>${w.title}</h1>
        <span
          >${formatFull(this.clock.now)} · ${strings.connection[this.state.connection]}
          <a class="exit" href=${href.fleet()}>${w.exit}</a></span
        >
      </header>
      <vigil-wall-alarm .state=${this.state}></vigil-wall-alarm>
      <div class="figures">
        <div class="figure" ?data-alarm=${open.length > 0}>
          <strong data-testid="wall-open">${open.length}</strong>${w.openTickets}
        </div>
        <div class="figure" ?data-alarm=${down > 0}><strong>${down}</strong>${w.devicesDown}</div>
        <div class="figure"><strong>${devices.length}</strong>${strings.devices.title}</div>
      </div>
      <div class="sites">
        ${sites.map(
          (s) =>
            html`<div class="site" data-state=${s.state}>
              <strong>${s.name}</strong><br />${strings.fleet.siteState[s.state]} ·
              ${strings.fleet.deviceCount(s.total)}
            </div>`,
        )}
      </div>
      ${
        open.length === 0
          ? html`<p class="clear">${w.allClear}</p>`
          : html`<div class="tickets">
              ${open.slice(0, 8).map(
                (t) =>
                  html`<div class="ticket" data-priority=${t.priority}>
                    <strong>${strings.tickets.priority[t.priority]}</strong>
                    <span>${strings.tickets.number(t.id)} ${ticketTitle(t)}</span>
                    ${deadlinesOf(t).map(
                      (d) =>
                        html`<vigil-countdown
                          data-deadline=${deadlineAttr[d.kind]}
                          label=${strings.tickets.deadline[d.kind]}
                          .clock=${d}
                        ></vigil-countdown>`,
                    )}
                  </div>`,
              )}
            </div>`
      }
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vigil-wall': VigilWall;
  }
}
