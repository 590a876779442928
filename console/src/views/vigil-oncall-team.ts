import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { Session } from '../data/session.js';
import type {
  OnCallOverride,
  OnCallOverrideWrite,
  OnCallPerson,
  OnCallRotation,
  OnCallRotationWrite,
  OnCallTeam,
  OnCallTeamPatch,
  OnCallTurn,
} from '../data/types.js';
import { formatInZone, fromZonedInput, screenZoneLabel } from '../format.js';
import { strings } from '../strings.js';
import { controls, page } from '../theme.js';

/** The forms and muted notes of the on-call screens (this element and vigil-oncall). */
export const oncallStyles = css`
  form {
    display: grid;
    grid-template-columns: repeat(auto-fit, minmax(11rem, 1fr));
    gap: 0.6rem;
    align-items: end;
    margin-bottom: 0.6rem;
  }
  .muted {
    color: var(--vigil-muted);
  }
`;

/** A failed request as one alert line: the API's message and every field it lists. */
export function problem(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const details = (error as { details?: string[] }).details ?? [];
  return [error.message, ...details].join(' — ');
}

/**
 * One team's rota: its rotations (who takes turns, daily or weekly hand-over at a local
 * time) and its overrides now or ahead (leave cover, swaps), with forms for an admin.
 *
 * @fires vigil-oncall-changed - CustomEvent<void>, after a rotation or override was added or deleted.
 * @fires vigil-oncall-close - CustomEvent<void>, when the user closes the team.
 *
 * Test hooks: `[data-testid="team-edit-form"]`, `[data-testid="turn"][data-person]`,
 * `[data-testid="rotation"][data-rotation]`, `[data-testid="rotation-form"]`,
 * `[data-testid="override"]`, `[data-testid="override-form"]`.
 */
@customElement('vigil-oncall-team')
export class VigilOncallTeam extends LitElement {
  static override styles = [
    controls,
    page,
    oncallStyles,
    css`
      header {
        display: flex;
        justify-content: space-between;
        align-items: baseline;
      }
    `,
  ];

  @property({ attribute: false }) session!: Session;
  @property({ attribute: false }) team!: OnCallTeam;
  @property({ attribute: false }) people: OnCallPerson[] = [];
  @property({ type: Boolean }) editable = false;

  @state() private _rotations: OnCallRotation[] = [];
  @state() private _overrides: OnCallOverride[] = [];
  @state() private _turns: OnCallTurn[] = [];
  @state() private _error: string | null = null;

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('team')) void this.load();
  }

  private async load(): Promise<void> {
    try {
      const [rotations, overrides, turns] = await Promise.all([
        this.session.client.fetchRotations(this.team.id),
        this.session.client.fetchOverrides(this.team.id),
        this.session.client.fetchTurns(this.team.id),
      ]);
      this._rotations = rotations;
      this._overrides = overrides;
      this._turns = turns;
    } catch (error) {
      this._error = problem(error);
    }
  }

  private async change(run: () => Promise<unknown>): Promise<boolean> {
    this._error = null;
    try {
      await run();
      await this.load();
      this.dispatchEvent(
        new CustomEvent<void>('vigil-oncall-changed', { bubbles: true, composed: true }),
      );
      return true;
    } catch (error) {
      this._error = problem(error);
      return false;
    }
  }

  private name(id: string): string {
    return this.people.find((p) => p.id === id)?.name ?? id;
  }

  override render() {
    const t = strings.oncall.team;
    return html`
      <section class="card" data-testid="team-detail" data-team=${this.team.id}>
        <header>
          <h3>${this.team.name}</h3>
          <button
            type="button"
            @click=${() => this.dispatchEvent(new CustomEvent<void>('vigil-oncall-close'))}
          >
            ${t.close}
          </button>
        </header>
        ${this._error === null ? nothing : html`<p class="error" role="alert">${this._error}</p>`}
        ${this.editable ? this.renderTeamForm() : nothing}
        <p class="muted">${t.timesIn(this.team.timeZone)} ${t.rotationRule}</p>
        <h3>${t.turns}</h3>
        ${
          this._turns.length === 0
            ? html`<p class="muted">${t.noTurns}</p>`
            : html`<table>
                <tbody>
                  ${this._turns.map(
                    (turn) =>
                      html`<tr data-testid="turn" data-person=${turn.engineer?.id ?? ''}>
                        <td>${turn.engineer?.name ?? strings.oncall.nobody}</td>
                        <td>
                          ${formatInZone(turn.from, this.team.timeZone)} –
                          ${formatInZone(turn.to, this.team.timeZone)}
                        </td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
        }
        <h3>${t.rotations}</h3>
        ${this.editable ? this.renderRotationForm() : nothing}
        ${
          this._rotations.length === 0
            ? html`<p class="muted">${t.noRotation}</p>`
            : html`<ul>
                ${this._rotations.map((r) => this.renderRotation(r))}
              </ul>`
        }
        <h3>${t.overrides}</h3>
        <p class="muted">${t.overrideRule}</p>
        ${this.editable ? this.renderOverrideForm() : nothing}
        ${
          this._overrides.length === 0
            ? html`<p class="muted">${t.noOverrides}</p>`
            : html`<ul>
                ${this._overrides.map(
                  (o) =>
                    html`<li data-testid="override" data-person=${o.personId}>
                      ${t.overrideText(
                        this.name(o.personId),
                        o.replacesId === null ? null : this.name(o.replacesId),
                        formatInZone(o.from, this.team.timeZone),
                        formatInZone(o.to, this.team.timeZone),
                      )}
                      ${o.reason ? html`<span class="muted">(${o.reason})</span>` : nothing}
                      ${
                        this.editable
                          ? html`<button
                              type="button"
                              @click=${() =>
                                void this.change(() => this.session.client.deleteOverride(o.id))}
                            >
                              ${strings.oncall.remove}
                            </button>`
                          : nothing
                      }
                    </li>`,
                )}
              </ul>`
        }
      </section>
    `;
  }

  /** The team's own fields: zone, language, the people of the later escalation steps, channels. */
  private renderTeamForm() {
    const t = strings.oncall.teams;
    const team = this.team;
    const languages = strings.oncall.languages;
    const person = (name: string, label: string, chosen: string | null) =>
      html`<label
        >${label}
        <select name=${name}>
          <option value=""></option>
          ${this.people.map(
            (p) => html`<option value=${p.id} ?selected=${p.id === chosen}>${p.name}</option>`,
          )}
        </select></label
      >`;
    return html`<form data-testid="team-edit-form" @submit=${this._saveTeam}>
      <label>${t.name}<input name="name" required value=${team.name} /></label>
      <label>${t.timeZone}<input name="timeZone" required value=${team.timeZone} /></label>
      <label
        >${t.language}
        <select name="language">
          ${(['zh-CN', 'en'] as const).map(
            (l) =>
              html`<option value=${l} ?selected=${team.language === l}>${languages[l]}</option>`,
          )}
        </select></label
      >
      ${person('leadId', t.lead, team.leadId)}
      ${person('supervisorId', t.supervisor, team.supervisorId)}
      ${person('managerId', t.manager, team.managerId)}
      <label>${t.channels}<input name="channelIds" value=${team.channelIds.join(', ')} /></label>
      <button class="primary" type="submit">${t.save}</button>
    </form>`;
  }

  private renderRotation(rotation: OnCallRotation) {
    const t = strings.oncall.team;
    const when =
      rotation.handover === 'weekly' && rotation.handoverWeekday !== null
        ? t.weeklyAt(t.weekdays[rotation.handoverWeekday - 1] ?? '', rotation.handoverTime)
        : t.dailyAt(rotation.handoverTime);
    return html`<li data-testid="rotation" data-rotation=${rotation.id}>
      ${t.rotationText(
        rotation.personIds.map((id) => this.name(id)).join(' → ') || strings.oncall.nobody,
        when,
        rotation.startDate,
      )}
      ${
        this.editable
          ? html`<button
              type="button"
              @click=${() =>
                void this.change(() =>
                  this.session.client.deleteRotation(this.team.id, rotation.id),
                )}
            >
              ${strings.oncall.remove}
            </button>`
          : nothing
      }
    </li>`;
  }

  private renderRotationForm() {
    const t = strings.oncall.team;
    return html`<form data-testid="rotation-form" @submit=${this._addRotation}>
      <label
        >${t.people}<input
          name="personIds"
          required
          list="oncall-people"
          placeholder=${this.people
            .slice(0, 2)
            .map((p) => p.id)
            .join(', ')}
        />
        <datalist id="oncall-people">
          ${this.people.map((p) => html`<option value=${p.id}>${p.name}</option>`)}
        </datalist>
      </label>
      <label
        >${t.handover}
        <select name="handover">
          <option value="daily">${t.daily}</option>
          <option value="weekly">${t.weekly}</option>
        </select></label
      >
      <label>${t.time}<input name="handoverTime" type="time" value="09:00" required /></label>
      <label
        >${t.weekday}
        <select name="handoverWeekday">
          ${t.weekdays.map((day, i) => html`<option value=${i + 1}>${day}</option>`)}
        </select></label
      >
      <label>${t.start}<input name="startDate" type="date" required /></label>
      <button class="primary" type="submit">${t.addRotation}</button>
    </form>`;
  }

  private renderOverrideForm() {
    const t = strings.oncall.team;
    const options = this.people.map((p) => html`<option value=${p.id}>${p.name}</option>`);
    return html`<form data-testid="override-form" @submit=${this._addOverride}>
      <label
        >${t.person}<select name="personId" required>
          ${options}
        </select></label
      >
      <label
        >${t.replaces}
        <select name="replacesId">
          <option value="">${t.anyone}</option>
          ${options}
        </select></label
      >
      <p class="muted" data-testid="entered-in">${strings.zone.enteredIn(screenZoneLabel())}</p>
      <label>${t.from}<input name="from" type="datetime-local" required /></label>
      <label>${t.to}<input name="to" type="datetime-local" required /></label>
      <label>${t.reason}<input name="reason" /></label>
      <button class="primary" type="submit">${t.addOverride}</button>
    </form>`;
  }

  private async _saveTeam(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const data = new FormData(event.target as HTMLFormElement);
    const text = (name: string) => String(data.get(name) ?? '').trim();
    const person = (name: string) => text(name) || null;
    const patch: OnCallTeamPatch = {
      name: text('name'),
      timeZone: text('timeZone'),
      language: text('language') === 'en' ? 'en' : 'zh-CN',
      leadId: person('leadId'),
      supervisorId: person('supervisorId'),
      managerId: person('managerId'),
      channelIds: text('channelIds')
        .split(',')
        .map((id) => id.trim())
        .filter(Boolean),
    };
    await this.change(() => this.session.client.updateTeam(this.team.id, patch));
  }

  private async _addRotation(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const handover = data.get('handover') === 'weekly' ? 'weekly' : 'daily';
    const rotation: OnCallRotationWrite = {
      personIds: String(data.get('personIds') ?? '')
        .split(/[,\s]+/)
        .filter(Boolean),
      handover,
      handoverTime: String(data.get('handoverTime')),
      handoverWeekday: handover === 'weekly' ? Number(data.get('handoverWeekday')) : null,
      startDate: String(data.get('startDate')),
    };
    if (await this.change(() => this.session.client.createRotation(this.team.id, rotation))) {
      form.reset();
    }
  }

  private async _addOverride(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const replaces = String(data.get('replacesId') ?? '');
    const override: OnCallOverrideWrite = {
      teamId: this.team.id,
      personId: String(data.get('personId')),
      replacesId: replaces === '' ? null : replaces,
      // Typed in the user's zone; an empty one (the inputs are required) the API refuses.
      from: fromZonedInput(String(data.get('from') ?? '')) ?? '',
      to: fromZonedInput(String(data.get('to') ?? '')) ?? '',
      reason: String(data.get('reason') ?? '').trim(),
    };
    if (await this.change(() => this.session.client.createOverride(override))) form.reset();
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vigil-oncall-team': VigilOncallTeam;
  }
  interface HTMLElementEventMap {
    'vigil-oncall-changed': CustomEvent<void>;
    'vigil-oncall-close': CustomEvent<void>;
  }
}
