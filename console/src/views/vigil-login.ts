import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import { ApiRequestError } from '../data/api.js';
import { formatInZone, screenTimeZone } from '../format.js';
import { controls } from '../theme.js';
import { strings } from '../strings.js';

export interface LoginSubmitDetail {
  username: string;
  password: string;
}

/** The lock of a VIGIL_AUTH_LOCKED answer (shared/api/auth.ts LoginLocked), if it is one. */
function lockOf(error: ApiRequestError): { scope: string; address: string; until: string } | null {
  const lock = (error.body as { lock?: unknown } | null)?.lock as
    Record<string, unknown> | undefined;
  if (typeof lock?.until !== 'string' || typeof lock.address !== 'string') return null;
  return { scope: String(lock.scope), address: lock.address, until: lock.until };
}

/**
 * What the form says about a failed login, in the console's language: a lock with its
 * address and its end in the screens' zone with the offset (nobody is signed in yet: the
 * zone of this browser's last user, else the browser's), a wrong password, or the API's
 * own words for anything else.
 */
export function loginErrorText(error: unknown): string {
  if (!(error instanceof ApiRequestError)) return strings.errors.network;
  if (error.code === 'VIGIL_AUTH_FAILED') return strings.login.failed;
  const lock = error.code === 'VIGIL_AUTH_LOCKED' ? lockOf(error) : null;
  if (lock === null) return error.message;
  const until = formatInZone(lock.until, screenTimeZone());
  return lock.scope === 'address'
    ? strings.login.lockedAddress(lock.address, until)
    : strings.login.lockedAccount(lock.address, until);
}

/**
 * The sign-in form. It does not call the API itself: it fires `vigil-login-submit` and
 * its owner shows the outcome through `busy`, `error` and `notice`.
 *
 * @fires vigil-login-submit - CustomEvent<LoginSubmitDetail>, when the form is submitted.
 */
@customElement('vigil-login')
export class VigilLogin extends LitElement {
  static override styles = [
    controls,
    css`
      :host {
        display: block;
        max-width: 22rem;
        margin: 12vh auto 0;
        padding: 0 1rem;
      }
      form {
        display: grid;
        gap: 0.9rem;
        padding: 1.5rem;
        background: var(--vigil-surface);
        border: 1px solid var(--vigil-border);
        border-radius: var(--vigil-radius);
      }
      h1 {
        margin: 0;
        font-size: 1.35rem;
      }
      .intro {
        margin: -0.5rem 0 0;
        color: var(--vigil-muted);
        font-size: 0.875rem;
      }
      label {
        display: grid;
        gap: 0.3rem;
        font-weight: 600;
        font-size: 0.875rem;
      }
      input {
        font: inherit;
        font-weight: 400;
        color: var(--vigil-text);
        background: var(--vigil-bg);
        border: 1px solid var(--vigil-border);
        border-radius: var(--vigil-radius);
        padding: 0.5rem 0.6rem;
      }
      input:focus-visible {
        outline: 3px solid var(--vigil-focus);
        outline-offset: 0;
      }
      .message {
        margin: 0;
        padding: 0.5rem 0.6rem;
        border-radius: var(--vigil-radius);
        font-size: 0.875rem;
      }
      .error {
        color: var(--vigil-down-text);
        background: var(--vigil-down-bg);
        border-left: 4px solid var(--vigil-down);
      }
      .notice {
        color: var(--vigil-info-text);
        background: var(--vigil-info-bg);
        border-left: 4px solid var(--vigil-info);
      }
      button {
        padding: 0.55rem;
        font-weight: 600;
      }
    `,
  ];

  /** True while the login request is in flight. */
  @property({ type: Boolean }) busy = false;

  /** The API's message for a failed login, shown in an alert. */
  @property() error: string | null = null;

  /** Information that is not an error, e.g. "your session has ended". */
  @property() notice: string | null = null;

  @query('input[name="username"]') private _username!: HTMLInputElement;
  @query('input[name="password"]') private _password!: HTMLInputElement;

  override render() {
    const t = strings.login;
    return html`
      <form data-testid="login-form" @submit=${this._submit} aria-busy=${this.busy}>
        <h1>${t.title}</h1>
        <p class="intro">${t.intro}</p>
        ${
          this.notice === null || this.error !== null
            ? nothing
            : html`<p class="message notice" role="status" data-testid="login-notice">
                ${this.notice}
              </p>`
        }
        <label>
          ${t.username}
          <input
            name="username"
            autocomplete="username"
            autocapitalize="none"
            spellcheck="false"
            required
            maxlength="100"
            ?disabled=${this.busy}
          />
        </label>
        <label>
          ${t.password}
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            maxlength="200"
            ?disabled=${this.busy}
          />
        </label>
        ${
          this.error === null
            ? nothing
            : html`<p class="message error" role="alert" data-testid="login-error">
                ${this.error}
              </p>`
        }
        <button class="primary" type="submit" ?disabled=${this.busy}>
          ${this.busy ? t.busy : t.submit}
        </button>
      </form>
    `;
  }

  protected override firstUpdated(): void {
    this._username.focus();
  }

  protected override updated(changed: Map<PropertyKey, unknown>): void {
    // After a failed attempt, the password is the field to type again.
    if (changed.has('error') && this.error !== null) {
      this._password.value = '';
      this._password.focus();
    }
  }

  private _submit(event: SubmitEvent): void {
    event.preventDefault();
    if (this.busy) return;
    const detail: LoginSubmitDetail = {
      username: this._username.value.trim(),
      password: this._password.value,
    };
    if (detail.username === '' || detail.password === '') return;
    this.dispatchEvent(
      new CustomEvent<LoginSubmitDetail>('vigil-login-submit', {
        detail,
        bubbles: true,
        composed: true,
      }),
    );
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vigil-login': VigilLogin;
  }
  interface HTMLElementEventMap {
    'vigil-login-submit': CustomEvent<LoginSubmitDetail>;
  }
}
