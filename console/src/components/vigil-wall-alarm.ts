import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { AlarmSound } from '../data/alarm-sound.js';
import { AlarmTracker } from '../data/alarm.js';
import {
  notifyEmergency,
  notifyState,
  toggleNotifications,
  type NotifyState,
} from '../data/desktop-notify.js';
import type { ConsoleState } from '../data/store.js';
import type { Ticket } from '../data/types.js';
import { href } from '../router.js';
import { strings } from '../strings.js';
import { ticketTitle } from '../wording.js';

/**
 * The wall's alarm for emergencies nobody has acknowledged: a flashing red frame and a
 * banner naming site, device and fault, and beeps every few seconds, until every such
 * ticket is acknowledged by anyone (the live stream brings the change and it stops by
 * itself). Muting silences the emergencies sounding now; a new one sounds again. A new
 * emergency also raises a desktop notification when the operator opted in and the tab is
 * hidden.
 *
 * The flash alternates once a second, below the three flashes a second of WCAG 2.3.1,
 * and holds still for prefers-reduced-motion: the red frame and the banner (role alert,
 * read by screen readers) stay. Test hooks: `[data-testid="wall-alarm"]` (the banner) and
 * `[data-testid="alarm-controls"]` with `data-beeps` (how many beeps played) and
 * `data-sound` (running, suspended, unsupported).
 */
@customElement('vigil-wall-alarm')
export class VigilWallAlarm extends LitElement {
  static override styles = css`
    :host {
      display: block;
    }
    .frame {
      position: fixed;
      inset: 0;
      pointer-events: none;
      border: 14px solid #ef4444;
      z-index: 10;
      animation: flash 1s steps(1, end) infinite;
    }
    .banner {
      border: 6px solid #ef4444;
      background: #7f1d1d;
      color: #fff;
      padding: 0.8rem 1.2rem;
      margin-bottom: 1.2rem;
      animation: flash-bg 1s steps(1, end) infinite;
    }
    .banner h2 {
      margin: 0 0 0.5rem;
      font-size: 2.2rem;
    }
    /* One grid for every row, so that sites, devices and faults line up in columns. */
    .banner ul {
      margin: 0;
      padding: 0;
      list-style: none;
      display: grid;
      grid-template-columns: max-content max-content 1fr;
      gap: 0.4rem 2rem;
      align-items: baseline;
      font-size: 1.6rem;
    }
    .banner li {
      display: grid;
      grid-column: 1 / -1;
      grid-template-columns: subgrid;
      align-items: baseline;
    }
    .banner dl {
      margin: 0;
    }
    .banner dt {
      display: inline;
      color: #fecaca;
      font-size: 0.9rem;
    }
    .banner dd {
      display: inline;
      margin: 0 0 0 0.4rem;
      font-weight: 700;
    }
    .hint {
      margin: 0.5rem 0 0;
      font-size: 1rem;
      color: #fecaca;
    }
    .controls {
      display: flex;
      flex-wrap: wrap;
      gap: 0.8rem;
      align-items: center;
      margin-bottom: 1rem;
      font-size: 1rem;
    }
    button {
      font: inherit;
      font-size: 1.1rem;
      padding: 0.4rem 0.9rem;
      border-radius: 6px;
      border: 2px solid #fff;
      background: #111;
      color: #fff;
      cursor: pointer;
    }
    button.enable {
      background: #facc15;
      border-color: #facc15;
      color: #000;
      font-weight: 700;
    }
    button:focus-visible {
      outline: 3px solid #60a5fa;
      outline-offset: 2px;
    }
    .note {
      color: #d1d5db;
    }
    @keyframes flash {
      50% {
        border-color: transparent;
      }
    }
    @keyframes flash-bg {
      50% {
        background: #000;
      }
    }
    @media (prefers-reduced-motion: reduce) {
      .frame,
      .banner {
        animation: none;
      }
    }
  `;

  @property({ attribute: false }) state!: ConsoleState;

  @state() private _notify: NotifyState = notifyState();

  private readonly tracker = new AlarmTracker();
  private sound: AlarmSound | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    this.sound = new AlarmSound(() => this.requestUpdate());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.sound?.dispose();
    this.sound = null;
  }

  override willUpdate(changed: PropertyValues<this>): void {
    if (!changed.has('state')) return;
    const fresh = this.tracker.update(this.state.tickets.values());
    for (const ticket of fresh) this.notifyOf(ticket);
    this.syncSound();
  }

  private syncSound(): void {
    if (this.tracker.sounding) this.sound?.start();
    else this.sound?.stop();
  }

  private siteName(ticket: Ticket): string {
    const name =
      this.state.rollup.find((r) => r.siteId === ticket.siteId)?.name ??
      this.state.sites.find((s) => s.id === ticket.siteId)?.name;
    return name && name !== ticket.siteId ? `${name} (${ticket.siteId})` : ticket.siteId;
  }

  private deviceName(ticket: Ticket): string | null {
    if (ticket.deviceId === null) return null;
    const name = this.state.devices.get(ticket.deviceId)?.name;
    return name && name !== ticket.deviceId ? `${name} (${ticket.deviceId})` : ticket.deviceId;
  }

  private notifyOf(ticket: Ticket): void {
    const a = strings.wall.alarm;
    const device = this.deviceName(ticket);
    notifyEmergency({
      ticketId: ticket.id,
      title: a.notice(ticket.id),
      body: [
        `${a.site}: ${this.siteName(ticket)}`,
        ...(device === null ? [] : [`${a.device}: ${device}`]),
        `${a.fault}: ${ticketTitle(ticket)}`,
      ].join('\n'),
      lang: strings.locale,
      onClick: () => {
        window.location.hash = href.ticket(ticket.id);
      },
    });
  }

  private async onToggleNotifications(): Promise<void> {
    this._notify = await toggleNotifications();
  }

  private onMute(): void {
    this.tracker.mute();
    this.syncSound();
    this.requestUpdate();
  }

  override render() {
    const a = strings.wall.alarm;
    const sound = this.sound?.state ?? 'unsupported';
    const tickets = this.tracker.tickets;
    const notifyLabel =
      this._notify === 'on'
        ? a.notifications.on
        : this._notify === 'off'
          ? a.notifications.off
          : '';
    return html`
      ${
        this.tracker.flashing
          ? html`<div class="frame" aria-hidden="true"></div>
              <section class="banner" role="alert" data-testid="wall-alarm">
                <h2>${a.heading(tickets.length)}</h2>
                <ul>
                  ${tickets.map((t) => {
                    const device = this.deviceName(t);
                    return html`<li data-ticket-id=${t.id}>
                      <dl>
                        <dt>${a.site}</dt>
                        <dd data-field="site">${this.siteName(t)}</dd>
                      </dl>
                      <dl>
                        ${
                          device === null
                            ? nothing
                            : html`<dt>${a.device}</dt>
                                <dd data-field="device">${device}</dd>`
                        }
                      </dl>
                      <dl>
                        <dt>${a.fault}</dt>
                        <dd data-field="fault">${ticketTitle(t)}</dd>
                      </dl>
                    </li>`;
                  })}
                </ul>
                <p class="hint">${a.hint}</p>
              </section>`
          : nothing
      }
      <div
        class="controls"
        data-testid="alarm-controls"
        data-beeps=${this.sound?.beeps ?? 0}
        data-sound=${sound}
      >
        <!-- Notifications and mute first: the sound's button and hint go away on the
          first click, and what follows them must not move under the pointer. -->
        ${
          notifyLabel === ''
            ? html`<span class="note">${a.notifications[this._notify]}</span>`
            : html`<button
                data-testid="alarm-notifications"
                aria-pressed=${this._notify === 'on' ? 'true' : 'false'}
                title=${a.notifications.hint}
                @click=${() => void this.onToggleNotifications()}
              >
                ${notifyLabel}
              </button>`
        }
        ${
          this.tracker.flashing
            ? this.tracker.sounding
              ? html`<button data-testid="alarm-mute" @click=${this.onMute}>${a.mute}</button>`
              : html`<span class="note" data-testid="alarm-muted">${a.muted}</span>`
            : nothing
        }
        ${
          sound === 'suspended'
            ? html`<button
                  class="enable"
                  data-testid="alarm-enable-sound"
                  @click=${() => void this.sound?.enable()}
                >
                  ${a.enableSound}
                </button>
                ${this.tracker.sounding ? html`<span class="note">${a.soundBlocked}</span>` : nothing}`
            : sound === 'unsupported'
              ? html`<span class="note">${a.soundUnsupported}</span>`
              : nothing
        }
      </div>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vigil-wall-alarm': VigilWallAlarm;
  }
}
