import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { catalogs, locales, strings, type Locale } from '../strings.js';
import { controls } from '../theme.js';

export interface LocaleChangeDetail {
  locale: Locale;
}

/**
 * The language picker: each language named in itself ("English", "简体中文"). It does
 * not switch by itself: the owner switches and remembers the choice.
 *
 * Test hook: `select[data-testid="language"]`.
 *
 * @fires vigil-locale-change - CustomEvent<LocaleChangeDetail>, when a language is chosen.
 */
@customElement('vigil-language-switch')
export class VigilLanguageSwitch extends LitElement {
  static override styles = [
    controls,
    css`
      select {
        font: inherit;
        color: var(--vigil-text);
        background: var(--vigil-surface);
        border: 1px solid var(--vigil-border);
        border-radius: var(--vigil-radius);
        padding: 0.3rem 0.4rem;
      }
    `,
  ];

  @property() locale: Locale = 'en';

  override render() {
    return html`<select
      data-testid="language"
      aria-label=${strings.header.language}
      title=${strings.header.language}
      @change=${this._change}
    >
      ${locales.map(
        (locale) =>
          html`<option value=${locale} ?selected=${locale === this.locale} lang=${locale}>
            ${catalogs[locale].languageName}
          </option>`,
      )}
    </select>`;
  }

  private _change(event: Event): void {
    const locale = (event.target as HTMLSelectElement).value as Locale;
    this.dispatchEvent(
      new CustomEvent<LocaleChangeDetail>('vigil-locale-change', {
        detail: { locale },
        bubbles: true,
        composed: true,
      }),
    );
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vigil-language-switch': VigilLanguageSwitch;
  }
  interface HTMLElementEventMap {
    'vigil-locale-change': CustomEvent<LocaleChangeDetail>;
  }
}
