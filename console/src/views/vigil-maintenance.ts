import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { Session } from '../data/session.js';
import type { ConsoleState } from '../data/store.js';
import type { MaintenanceWindow, NewMaintenance } from '../data/types.js';
import { formatFull, fromZonedInput, screenZoneLabel } from '../format.js';
import { strings } from '../strings.js';
import { controls, page } from '../theme.js';

/**
 * Maintenance windows: the current and planned ones (kept current by the live stream),
 * a form to plan one or start one now, and a button to end an active one.
 *
 * Test hooks: `[data-testid="maintenance-form"]`, `[data-testid="window"][data-window-id]
 * [data-state]`, `button[data-testid="end-window"]`.
 */
@customElement('vigil-maintenance')
export class VigilMaintenance extends LitElement {
  static override styles = [
    controls,
    page,
    css`
      form {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr));
        gap: 0.6rem;
        align-items: end;
      }
      .wide {
        grid-column: 1 / -1;
      }
    `,
  ];

  @property({ attribute: false }) session!: Session;
  @property({ attribute: false }) state!: ConsoleState;

  @state() private _error: string | null = null;
  @state() private _busy = false;
  @state() private _past: MaintenanceWindow[] | null = null;

  override render() {
    const m = strings.maintenance;
    const canAct = this.state.user?.role === 'operator' || this.state.user?.role === 'admin';
    const sites = [...new Set([...this.state.devices.values()].map((d) => d.siteId))].sort();
    const windows = this._past ?? [...this.state.maintenance];
    return html`
      <h2>${m.title}</h2>
      ${
        canAct
          ? html`<form class="card" data-testid="maintenance-form" @submit=${this._submit}>
              <label
                >${m.site}
                <select name="siteId" required>
                  ${sites.map((s) => html`<option value=${s}>${s}</option>`)}
                </select></label
              >
              <label>${m.device}<input name="deviceId" autocomplete="off" /></label>
              <p class="muted wide" data-testid="entered-in">
                ${strings.zone.enteredIn(screenZoneLabel())}
              </p>
              <label>${m.startsAt}<input name="startsAt" type="datetime-local" /></label>
              <label>${m.endsAt}<input name="endsAt" type="datetime-local" /></label>
              <label
                >${m.durationMin}<input name="durationMin" type="number" min="1" value="60"
              /></label>
              <label class="wide">${m.reason}<input name="reason" required /></label>
              <div class="row wide">
                <button
                  class="primary"
                  type="submit"
                  name="mode"
                  value="plan"
                  ?disabled=${this._busy}
                >
                  ${m.plan}
                </button>
                <button
                  type="submit"
                  name="mode"
                  value="now"
                  data-testid="start-now"
                  ?disabled=${this._busy}
                >
                  ${m.startNow}
                </button>
              </div>
            </form>`
          : nothing
      }
      ${this._error === null ? nothing : html`<p class="error" role="alert">${this._error}</p>`}
      <p>
        <label class="row"
          ><input type="checkbox" @change=${this._showAll} ?checked=${this._past !== null} />
          ${m.showAll}</label
        >
      </p>
      ${
        windows.length === 0
          ? html`<p class="muted">${m.none}</p>`
          : html`<table class="card">
              <thead>
                <tr>
                  <th>${m.site}</th>
                  <th>${strings.devices.title}</th>
                  <th>${m.startsAt}</th>
                  <th>${m.endsAt}</th>
                  <th>${m.reason}</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${windows.map((w) => this.renderWindow(w, canAct))}
              </tbody>
            </table>`
      }
    `;
  }

  private renderWindow(w: MaintenanceWindow, canAct: boolean) {
    const m = strings.maintenance;
    return html`<tr data-testid="window" data-window-id=${w.id} data-state=${w.state}>
      <td>${w.siteId}</td>
      <td>${w.deviceId ?? m.wholeSite}</td>
      <td>${formatFull(w.startsAt)}</td>
      <td>${formatFull(w.endsAt)}</td>
      <td>${w.reason} <small class="muted">${m.createdBy(w.createdBy)}</small></td>
      <td>
        <span class="pill" data-state=${w.state === 'active' ? 'maintenance' : 'ok'}
          >${m.state[w.state] ?? w.state}</span
        >
        ${
          canAct && w.state !== 'over'
            ? html`<button type="button" data-testid="end-window" @click=${() => this.end(w)}>
                ${m.end}
              </button>`
            : nothing
        }
      </td>
    </tr>`;
  }

  private async _showAll(event: Event): Promise<void> {
    const all = (event.target as HTMLInputElement).checked;
    this._past = all ? await this.session.client.fetchMaintenance('all').catch(() => []) : null;
  }

  private async _submit(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const now = (event.submitter as HTMLButtonElement | null)?.value === 'now';
    const text = (name: string) => String(data.get(name) ?? '').trim();
    const window: NewMaintenance = { siteId: text('siteId'), reason: text('reason') };
    if (text('deviceId') !== '') window.deviceId = text('deviceId');
    // Typed in the user's zone (their setting), not the browser's.
    const startsAt = now ? undefined : fromZonedInput(text('startsAt'));
    const endsAt = now ? undefined : fromZonedInput(text('endsAt'));
    if (startsAt !== undefined) window.startsAt = startsAt;
    if (endsAt !== undefined) window.endsAt = endsAt;
    else if (text('durationMin') !== '') window.durationMin = Number(text('durationMin'));
    await this.run(async () => {
      const created = await this.session.client.createMaintenance(window);
      this.session.applyOwn([{ type: 'maintenance', window: created }]);
      form.reset();
    });
  }

  private async end(w: MaintenanceWindow): Promise<void> {
    await this.run(async () => {
      const ended = await this.session.client.endMaintenance(w.id, new Date().toISOString());
      this.session.applyOwn([{ type: 'maintenance', window: ended }]);
    });
  }

  private async run(work: () => Promise<void>): Promise<void> {
    this._busy = true;
    this._error = null;
    try {
      await work();
    } catch (error) {
      this._error = error instanceof Error ? error.message : String(error);
    } finally {
      this._busy = false;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vigil-maintenance': VigilMaintenance;
  }
}
