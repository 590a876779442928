import { LitElement, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { Session } from '../data/session.js';
import type { ConsoleState } from '../data/store.js';
import type { LoginLock, UserRole, UserSummary, UserWrite } from '../data/types.js';
import { formatFull } from '../format.js';
import { strings } from '../strings.js';
import { controls, page } from '../theme.js';

const roles: readonly UserRole[] = ['viewer', 'operator', 'admin', 'customer'];

/**
 * Console users (admin only): list, create or change role/password, delete; and the
 * login locks in force, which an admin lifts.
 * Test hooks: `[data-testid="user-form"]`, `[data-testid="user"][data-username][data-role]`,
 * `[data-testid="login-lock"][data-address]`.
 */
@customElement('vigil-users')
export class VigilUsers extends LitElement {
  static override styles = [controls, page];

  @property({ attribute: false }) session!: Session;
  @property({ attribute: false }) state!: ConsoleState;

  @state() private _users: UserSummary[] = [];
  @state() private _locks: LoginLock[] = [];
  @state() private _customers: { id: string; name: string }[] = [];
  @state() private _error: string | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      this._users = await this.session.client.fetchUsers();
      this._locks = await this.session.client.fetchLoginLocks();
      // A customer account names its customer (the portal, docs/CUSTOMERS.md).
      this._customers = (await this.session.client.fetchCustomers()).map((c) => ({
        id: c.id,
        name: c.name,
      }));
    } catch (error) {
      this._error = error instanceof Error ? error.message : String(error);
    }
  }

  override render() {
    const u = strings.users;
    if (this.state.user?.role !== 'admin') return html`<p role="alert">${u.adminOnly}</p>`;
    return html`
      <h2>${u.title}</h2>
      <form class="card row" data-testid="user-form" @submit=${this._save}>
        <label>${u.username}<input name="username" required pattern="[A-Za-z0-9._-]+" /></label>
        <label
          >${u.role}
          <select name="role">
            ${roles.map((r) => html`<option value=${r}>${strings.header.role[r] ?? r}</option>`)}
          </select></label
        >
        <label
          >${strings.portal.accountCustomer}
          <select name="customerId">
            <option value="">${strings.portal.noCustomer}</option>
            ${this._customers.map((c) => html`<option value=${c.id}>${c.name} (${c.id})</option>`)}
          </select></label
        >
        <label title=${u.newPasswordHint}
          >${u.password}<input
            name="password"
            type="password"
            minlength="8"
            autocomplete="new-password"
        /></label>
        <button class="primary" type="submit">${u.save}</button>
      </form>
      ${this._error === null ? nothing : html`<p class="error" role="alert">${this._error}</p>`}
      <table class="card">
        <thead>
          <tr>
            <th>${u.username}</th>
            <th>${u.role}</th>
            <th>${u.lastLogin}</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          ${this._users.map(
            (user) =>
              html`<tr
                data-testid="user"
                data-username=${user.username}
                data-role=${user.role}
                data-customer=${user.customerId ?? ''}
              >
                <td>${user.username}</td>
                <td>
                  ${strings.header.role[user.role] ?? user.role}${
                    user.customerId === null ? '' : ` · ${user.customerId}`
                  }
                </td>
                <td>${user.lastLoginAt === null ? u.never : formatFull(user.lastLoginAt)}</td>
                <td>
                  ${
                    user.username === this.state.user?.username
                      ? nothing
                      : html`<button type="button" @click=${() => this.removeUser(user.username)}>
                          ${u.remove}
                        </button>`
                  }
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
      ${this.renderLocks()}
    `;
  }

  private renderLocks() {
    const u = strings.users;
    const who = (lock: LoginLock) =>
      lock.scope === 'address' ? u.anyName : (lock.username ?? u.unknownName);
    return html`
      <h3>${u.locks}</h3>
      <p>${u.locksIntro}</p>
      ${
        this._locks.length === 0
          ? html`<p data-testid="no-login-locks">${u.noLocks}</p>`
          : html`<table class="card">
              <thead>
                <tr>
                  <th>${u.lockWho}</th>
                  <th>${u.address}</th>
                  <th>${u.until}</th>
                  <th>${u.failures}</th>
                  <th>${u.refused}</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${this._locks.map(
                  (lock) =>
                    html`<tr data-testid="login-lock" data-address=${lock.address}>
                      <td>${who(lock)}</td>
                      <td>${lock.address}</td>
                      <td>${formatFull(lock.until)}</td>
                      <td>${lock.failures}</td>
                      <td>${lock.refused}</td>
                      <td>
                        <button type="button" @click=${() => this.liftLock(lock)}>${u.lift}</button>
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
    `;
  }

  private async liftLock(lock: LoginLock): Promise<void> {
    if (!confirm(strings.users.liftConfirm(lock.address))) return;
    try {
      await this.session.client.liftLoginLock(lock.id);
      await this.load();
    } catch (error) {
      this._error = error instanceof Error ? error.message : String(error);
    }
  }

  private async _save(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const username = String(data.get('username') ?? '').trim();
    const password = String(data.get('password') ?? '');
    const body: UserWrite = { role: String(data.get('role')) as UserRole };
    if (password !== '') body.password = password;
    const customerId = String(data.get('customerId') ?? '');
    // Sent for a customer account only: the broker refuses a customer on a staff account.
    if (body.role === 'customer' && customerId !== '') body.customerId = customerId;
    this._error = null;
    try {
      await this.session.client.saveUser(username, body);
      form.reset();
      await this.load();
    } catch (error) {
      this._error = error instanceof Error ? error.message : String(error);
    }
  }

  private async removeUser(username: string): Promise<void> {
    if (!confirm(strings.users.removeConfirm(username))) return;
    try {
      await this.session.client.deleteUser(username);
      await this.load();
    } catch (error) {
      this._error = error instanceof Error ? error.message : String(error);
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vigil-users': VigilUsers;
  }
}
