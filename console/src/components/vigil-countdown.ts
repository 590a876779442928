import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { styleMap } from 'lit/directives/style-map.js';
import { ClockController } from '../controllers/clock.js';
import { countdownState, type CountdownClock, type CountdownState } from '../countdown.js';
import { formatDuration, formatFull, formatTime } from '../format.js';
import { strings } from '../strings.js';

/**
 * One deadline: its label, the time left ("in 9 min 12 s") or past ("overdue 3 min"),
 * and a bar of the time used. Ticks with the page's shared clock, against the instants
 * the broker sent (`due`, `warnAt`) and the broker's state of the clock.
 *
 * The host carries `data-state`: `ok`, `warning` (from the broker's `warnAt`, or its
 * clock says warning), `breached`, `met`, `missed`, `paused` or `none`, for styling from
 * outside and for tests; the text is in `[data-testid="countdown-value"]` of its shadow
 * root.
 *
 * @csspart value - The time left or past.
 */
@customElement('vigil-countdown')
export class VigilCountdown extends LitElement {
  static override styles = css`
    :host {
      display: block;
      min-width: 0;
      --bar: var(--vigil-unknown);
    }
    :host([data-state='ok']),
    :host([data-state='met']) {
      --bar: var(--vigil-up);
    }
    :host([data-state='warning']) {
      --bar: var(--vigil-degraded);
    }
    :host([data-state='breached']),
    :host([data-state='missed']) {
      --bar: var(--vigil-down);
    }
    .label {
      font-size: 0.75rem;
      color: var(--vigil-muted);
      white-space: nowrap;
    }
    .value {
      display: block;
      font-weight: 600;
      font-variant-numeric: tabular-nums;
      overflow-wrap: anywhere;
      border-radius: 3px;
      padding: 0 0.25rem;
      margin-left: -0.25rem;
    }
    :host([data-state='warning']) .value {
      color: var(--vigil-degraded-text);
      background: var(--vigil-degraded-bg);
    }
    :host([data-state='breached']) .value,
    :host([data-state='missed']) .value {
      color: var(--vigil-down-text);
      background: var(--vigil-down-bg);
    }
    :host([data-state='paused']) .value {
      color: var(--vigil-info-text);
      background: var(--vigil-info-bg);
    }
    :host([data-state='none']) .value {
      font-weight: 400;
      color: var(--vigil-muted);
    }
    .due {
      font-size: 0.75rem;
      color: var(--vigil-muted);
      font-variant-numeric: tabular-nums;
    }
    .bar {
      height: 4px;
      margin-top: 0.2rem;
      border-radius: 2px;
      background: var(--vigil-unknown-bg);
      overflow: hidden;
    }
    .bar > span {
      display: block;
      height: 100%;
      background: var(--bar);
    }
  `;

  /** What the deadline limits, e.g. "Respond by". */
  @property() label = '';

  /** The deadline's clock as the broker sent it (data/tickets.ts deadlinesOf); null: none. */
  @property({ attribute: false }) clock: CountdownClock | null = null;

  private readonly ticker = new ClockController(this);
  private view: CountdownState = { state: 'none' };

  protected override willUpdate(): void {
    this.view =
      this.clock === null ? { state: 'none' } : countdownState(this.clock, this.ticker.now);
    this.dataset.state = this.view.state;
  }

  override render() {
    const now = this.ticker.now;
    const view = this.view;
    const due = this.clock?.due ?? null;
    return html`
      <span class="label">${this.label}</span>
      <span
        class="value"
        part="value"
        data-testid="countdown-value"
        role="timer"
        aria-live="off"
        title=${view.state === 'met' ? strings.countdown.metAt(formatFull(view.at)) : nothing}
        >${this.text(view)}</span
      >
      ${
        due === null
          ? nothing
          : html`<time class="due" datetime=${due} title=${formatFull(due)}
              >${strings.countdown.due(formatTime(due, now))}</time
            >`
      }
      <div class="bar" aria-hidden="true">
        <span style=${styleMap({ width: `${(this.barFraction(view) * 100).toFixed(1)}%` })}></span>
      </div>
    `;
  }

  private text(view: CountdownState): string {
    const c = strings.countdown;
    switch (view.state) {
      case 'none':
        return c.none;
      case 'paused':
        return c.paused;
      case 'ok':
      case 'warning':
        return c.remaining(formatDuration(view.remainingMs, { round: 'up' }));
      case 'breached':
        return c.overdue(formatDuration(view.overdueMs, { coarse: true }));
      case 'met':
        return c.met(formatDuration(view.earlyMs, { coarse: true }));
      case 'missed':
        return c.missed(formatDuration(view.byMs, { coarse: true }));
    }
  }

  private barFraction(view: CountdownState): number {
    switch (view.state) {
      case 'ok':
      case 'warning':
        return view.usedFraction;
      case 'breached':
      case 'missed':
      case 'met':
        return 1;
      case 'none':
      case 'paused':
        return 0;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vigil-countdown': VigilCountdown;
  }
}
