import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { strings } from '../strings.js';
import { VigilLanguageSwitch } from './vigil-language-switch.js';

export interface ZoneChangeDetail {
  /** An IANA zone name; null: the browser's own. */
  timeZone: string | null;
}

/**
 * The zones offered besides the browser's: China's, its neighbours where the NOC's
 * engineers travel, UTC, and a few with daylight saving time for foreign customers.
 * Names only from the IANA tz database (never abbreviations: "CST" is Chicago there).
 */
const ZONES = [
  'Asia/Shanghai',
  'Asia/Hong_Kong',
  'Asia/Taipei',
  'Asia/Singapore',
  'Asia/Tokyo',
  'Europe/London',
  'Europe/Berlin',
  'America/New_York',
  'UTC',
];

/**
 * The screens' time zone (issue 16 part 2): the signed-in user's setting, kept by the
 * broker with the user; the default is the browser's. Like the language picker it does
 * not switch by itself: the owner switches and remembers the choice.
 *
 * Test hook: `select[data-testid="time-zone"]` (value "" for the browser's).
 *
 * @fires vigil-zone-change - CustomEvent<ZoneChangeDetail>, when a zone is chosen.
 */
@customElement('vigil-zone-switch')
export class VigilZoneSwitch extends LitElement {
  // The header's pickers look alike: the language picker's styles, a little narrower.
  static override styles = [
    VigilLanguageSwitch.styles,
    css`
      select {
        max-width: 14rem;
      }
    `,
  ];

  /** The user's zone; null: the browser's. */
  @property({ attribute: false }) timeZone: string | null = null;

  override render() {
    const own = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const zones =
      this.timeZone === null || ZONES.includes(this.timeZone) ? ZONES : [this.timeZone, ...ZONES];
    return html`<select
      data-testid="time-zone"
      aria-label=${strings.zone.label}
      title=${strings.zone.label}
      @change=${this._change}
    >
      <option value="" ?selected=${this.timeZone === null}>${strings.zone.browser(own)}</option>
      ${zones.map(
        (zone) => html`<option value=${zone} ?selected=${this.timeZone === zone}>${zone}</option>`,
      )}
    </select>`;
  }

  private _change(event: Event): void {
    const value = (event.target as HTMLSelectElement).value;
    this.dispatchEvent(
      new CustomEvent<ZoneChangeDetail>('vigil-zone-change', {
        detail: { timeZone: value === '' ? null : value },
        bubbles: true,
        composed: true,
      }),
    );
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vigil-zone-switch': VigilZoneSwitch;
  }
  interface HTMLElementEventMap {
    'vigil-zone-change': CustomEvent<ZoneChangeDetail>;
  }
}
