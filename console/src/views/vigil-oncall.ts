import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { keyed } from 'lit/directives/keyed.js';
import type { Session } from '../data/session.js';
import type { ConsoleState } from '../data/store.js';
import type {
  OnCallCoverage,
  OnCallCoverageWrite,
  OnCallNow,
  OnCallPerson,
  OnCallPersonPatch,
  OnCallTeam,
  OnCallTeamCreate,
} from '../data/types.js';
import { formatFull } from '../format.js';
import { strings } from '../strings.js';
import { controls, page } from '../theme.js';
import { oncallStyles, problem } from './vigil-oncall-team.js';

type TeamOnCall = Omit<OnCallNow, 'siteId'>;

/** A form's text field, trimmed; empty -> null (the API's "not set"). */
function field(data: FormData, name: string): string | null {
  const value = String(data.get(name) ?? '').trim();
  return value === '' ? null : value;
}

/**
 * On call: who is on call now per team (and for any site), the people who can be paged,
 * the teams with their rota (vigil-oncall-team), and which team covers which site. Everyone
 * reads; the forms show for an admin only (the broker checks the role again).
 *
 * Test hooks: `[data-testid="oncall-now"][data-team]`, `[data-testid="person"][data-person]`,
 * `[data-testid="person-form"]`, `[data-testid="team-form"]`, `[data-testid="team"][data-team]`,
 * `[data-testid="coverage"][data-scope]`, `[data-testid="coverage-form"]`,
 * `[data-testid="site-lookup"]`, `[data-testid="site-answer"]`.
 */
@customElement('vigil-oncall')
export class VigilOncall extends LitElement {
  static override styles = [
    controls,
    page,
    oncallStyles,
    css`
      .phone {
        font-family: var(--vigil-mono);
      }
    `,
  ];

  @property({ attribute: false }) session!: Session;
  @property({ attribute: false }) state!: ConsoleState;

  @state() private _people: OnCallPerson[] = [];
  @state() private _teams: OnCallTeam[] = [];
  @state() private _now = new Map<string, TeamOnCall>();
  @state() private _coverage: OnCallCoverage[] = [];
  @state() private _openTeam: string | null = null;
  /** The person the form changes; null: the form adds one. */
  @state() private _editing: OnCallPerson | null = null;
  @state() private _site: OnCallNow | null = null;
  @state() private _error: string | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private get canEdit(): boolean {
    return this.state.user?.role === 'admin';
  }

  private async load(): Promise<void> {
    const client = this.session.client;
    try {
      const [people, teams, coverage] = await Promise.all([
        client.fetchPeople(),
        client.fetchTeams(),
        client.fetchCoverage(),
      ]);
      const now = await Promise.all(teams.map((t) => client.fetchTeamOnCall(t.id)));
      this._people = people;
      this._teams = teams;
      this._coverage = coverage;
      this._now = new Map(teams.map((t, i) => [t.id, now[i]!]));
    } catch (error) {
      this._error = problem(error);
    }
  }

  /** Runs a change, then reloads everything (a change of people moves who is on call). */
  private async change(run: () => Promise<unknown>): Promise<boolean> {
    this._error = null;
    try {
      await run();
      await this.load();
      return true;
    } catch (error) {
      this._error = problem(error);
      return false;
    }
  }

  private personName(person: OnCallPerson | null): string {
    return person === null ? strings.oncall.nobody : person.name;
  }

  override render() {
    const o = strings.oncall;
    const open = this._teams.find((t) => t.id === this._openTeam);
    return html`
      <h2>${o.title}</h2>
      ${this._error === null ? nothing : html`<p class="error" role="alert">${this._error}</p>`}
      ${this.canEdit ? nothing : html`<p class="muted">${o.adminOnly}</p>`} ${this.renderNow()}
      ${
        open === undefined
          ? nothing
          : html`<vigil-oncall-team
              .session=${this.session}
              .team=${open}
              .people=${this._people}
              ?editable=${this.canEdit}
              @vigil-oncall-changed=${() => void this.load()}
              @vigil-oncall-close=${() => (this._openTeam = null)}
            ></vigil-oncall-team>`
      }
      ${this.renderTeams()} ${this.renderPeople()} ${this.renderCoverage()}
    `;
  }

  private renderNow() {
    const n = strings.oncall.now;
    const sites = [
      ...new Set([
        ...this.state.sites.map((s) => s.id),
        ...[...this.state.devices.values()].map((d) => d.siteId),
      ]),
    ].sort();
    return html`
      <section class="card">
        <h3>${n.title}</h3>
        ${
          this._teams.length === 0
            ? html`<p class="muted">${n.noTeams}</p>`
            : html`<table>
                <thead>
                  <tr>
                    <th>${n.team}</th>
                    <th>${n.engineer}</th>
                    <th>${n.until}</th>
                    <th>${n.next}</th>
                    <th>${n.escalation}</th>
                  </tr>
                </thead>
                <tbody>
                  ${this._teams.map((team) => this.renderNowRow(team))}
                </tbody>
              </table>`
        }
        <form data-testid="site-lookup" @submit=${this._lookup}>
          <label
            >${n.site}
            <input name="siteId" list="oncall-sites" required />
            <datalist id="oncall-sites">
              ${sites.map((s) => html`<option value=${s}></option>`)}
            </datalist>
          </label>
          <button type="submit">${n.lookup}</button>
        </form>
        ${this._site === null ? nothing : this.renderSiteAnswer(this._site)}
      </section>
    `;
  }

  private renderNowRow(team: OnCallTeam) {
    const n = strings.oncall.now;
    const now = this._now.get(team.id);
    const engineer = now?.engineer ?? null;
    return html`<tr
      data-testid="oncall-now"
      data-team=${team.id}
      data-engineer=${engineer?.id ?? ''}
    >
      <td>${team.name}</td>
      <td>
        ${this.personName(engineer)}
        ${engineer?.phone ? html`<span class="phone">${engineer.phone}</span>` : nothing}
      </td>
      <td>${now?.until ? formatFull(now.until) : n.noChange}</td>
      <td>
        ${now?.next ? n.nextFrom(this.personName(now.next.engineer), formatFull(now.next.from)) : '–'}
      </td>
      <td>
        ${[now?.lead, now?.supervisor, now?.manager]
          .map((p) => p?.name ?? strings.oncall.notSet)
          .join(' / ')}
      </td>
    </tr>`;
  }

  private renderSiteAnswer(answer: OnCallNow) {
    const n = strings.oncall.now;
    if (answer.team === null) {
      return html`<p data-testid="site-answer" data-team="">${n.noCover(answer.siteId)}</p>`;
    }
    return html`<p data-testid="site-answer" data-team=${answer.team.id}>
      ${n.siteAnswer(answer.siteId, answer.team.name)} ${n.engineer}:
      <strong>${this.personName(answer.engineer)}</strong>
      ${answer.engineer?.phone ? html`<span class="phone">${answer.engineer.phone}</span>` : nothing}
      ${
        answer.next
          ? html`· ${n.next}:
            ${n.nextFrom(this.personName(answer.next.engineer), formatFull(answer.next.from))}`
          : nothing
      }
    </p>`;
  }

  /** The language messages are written in: Chinese first, the default. */
  private languageSelect(label: string, chosen = 'zh-CN') {
    const languages = strings.oncall.languages;
    return html`<label
      >${label}
      <select name="language">
        <option value="zh-CN" ?selected=${chosen === 'zh-CN'}>${languages['zh-CN']}</option>
        <option value="en" ?selected=${chosen === 'en'}>${languages.en}</option>
      </select></label
    >`;
  }

  /** Adds a person, or changes `editing` (its id stays). */
  private renderPersonForm(editing: OnCallPerson | null) {
    const p = strings.oncall.people;
    const text = (name: keyof OnCallPerson, label: string, type = 'text') =>
      html`<label
        >${label}<input name=${name} type=${type} value=${String(editing?.[name] ?? '')}
      /></label>`;
    return html`<form data-testid="person-form" @submit=${this._savePerson}>
      <label
        >${p.id}<input
          name="id"
          required
          pattern="[A-Za-z0-9][A-Za-z0-9_.\\-]*"
          value=${editing?.id ?? ''}
          ?readonly=${editing !== null}
      /></label>
      <label>${p.name}<input name="name" required value=${editing?.name ?? ''} /></label>
      ${text('phone', p.phone, 'tel')} ${text('email', p.email, 'email')}
      ${text('dingtalkUserId', p.dingtalk)} ${text('wecomUserId', p.wecom)}
      ${text('feishuOpenId', p.feishu)} ${this.languageSelect(p.language, editing?.language)}
      ${text('userName', p.account)}
      <button class="primary" type="submit">${editing === null ? p.add : p.save}</button>
      ${
        editing === null
          ? nothing
          : html`<button type="button" @click=${() => (this._editing = null)}>${p.cancel}</button>`
      }
    </form>`;
  }

  private renderPeople() {
    const p = strings.oncall.people;
    const languages = strings.oncall.languages;
    return html`
      <section class="card">
        <h3>${p.title}</h3>
        ${
          this.canEdit
            ? keyed(this._editing?.id ?? '', this.renderPersonForm(this._editing))
            : nothing
        }
        ${
          this._people.length === 0
            ? html`<p class="muted">${p.none}</p>`
            : html`<table>
                <thead>
                  <tr>
                    <th>${p.name}</th>
                    <th>${p.phone}</th>
                    <th>${p.email}</th>
                    <th>${p.dingtalk} / ${p.wecom} / ${p.feishu}</th>
                    <th>${p.language}</th>
                    <th>${p.account}</th>
                    <th></th>
                  </tr>
                </thead>
                <tbody>
                  ${this._people.map(
                    (person) =>
                      html`<tr data-testid="person" data-person=${person.id}>
                        <td>${person.name} <span class="muted">${person.id}</span></td>
                        <td class="phone">${person.phone ?? '–'}</td>
                        <td>${person.email ?? '–'}</td>
                        <td>
                          ${[person.dingtalkUserId, person.wecomUserId, person.feishuOpenId]
                            .map((id) => id ?? '–')
                            .join(' / ')}
                        </td>
                        <td>${languages[person.language] ?? person.language}</td>
                        <td>${person.userName ?? '–'}</td>
                        <td>
                          ${
                            this.canEdit
                              ? html`<button
                                    type="button"
                                    data-testid="edit-person"
                                    @click=${() => (this._editing = person)}
                                  >
                                    ${p.edit}
                                  </button>
                                  <button type="button" @click=${() => this.removePerson(person)}>
                                    ${strings.oncall.remove}
                                  </button>`
                              : nothing
                          }
                        </td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
        }
      </section>
    `;
  }

  private renderTeams() {
    const t = strings.oncall.teams;
    const personOptions = html`<option value=""></option>
      ${this._people.map((p) => html`<option value=${p.id}>${p.name}</option>`)}`;
    return html`
      <section class="card">
        <h3>${t.title}</h3>
        ${
          this.canEdit
            ? html`<form data-testid="team-form" @submit=${this._addTeam}>
                <label
                  >${t.id}<input name="id" required pattern="[A-Za-z0-9][A-Za-z0-9_.\\-]*"
                /></label>
                <label>${t.name}<input name="name" required /></label>
                <label>${t.timeZone}<input name="timeZone" placeholder="Asia/Shanghai" /></label>
                ${this.languageSelect(t.language)}
                <label
                  >${t.lead}<select name="leadId">
                    ${personOptions}
                  </select></label
                >
                <label
                  >${t.supervisor}<select name="supervisorId">
                    ${personOptions}
                  </select></label
                >
                <label
                  >${t.manager}<select name="managerId">
                    ${personOptions}
                  </select></label
                >
                <label>${t.channels}<input name="channelIds" /></label>
                <button class="primary" type="submit">${t.add}</button>
              </form>`
            : nothing
        }
        ${
          this._teams.length === 0
            ? html`<p class="muted">${t.none}</p>`
            : html`<table>
                <thead>
                  <tr>
                    <th>${t.name}</th>
                    <th>${t.timeZone}</th>
                    <th>${t.language}</th>
                    <th>${t.channels}</th>
                    <th></th>
                  </tr>
                </thead>
                <tbody>
                  ${this._teams.map(
                    (team) =>
                      html`<tr data-testid="team" data-team=${team.id}>
                        <td>${team.name} <span class="muted">${team.id}</span></td>
                        <td>${team.timeZone}</td>
                        <td>${strings.oncall.languages[team.language] ?? team.language}</td>
                        <td>${team.channelIds.join(', ') || '–'}</td>
                        <td>
                          <button
                            type="button"
                            data-testid="open-team"
                            @click=${() => (this._openTeam = team.id)}
                          >
                            ${t.open}
                          </button>
                          ${
                            this.canEdit
                              ? html`<button type="button" @click=${() => this.removeTeam(team)}>
                                  ${strings.oncall.remove}
                                </button>`
                              : nothing
                          }
                        </td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
        }
      </section>
    `;
  }

  private renderCoverage() {
    const c = strings.oncall.coverage;
    const teamName = (id: string) => this._teams.find((t) => t.id === id)?.name ?? id;
    return html`
      <section class="card">
        <h3>${c.title}</h3>
        <p class="muted">${c.rule}</p>
        ${
          this.canEdit && this._teams.length > 0
            ? html`<form data-testid="coverage-form" @submit=${this._setCoverage}>
                <label
                  >${c.scope}
                  <select name="scope">
                    ${(['site', 'customer', 'default'] as const).map(
                      (s) => html`<option value=${s}>${c.scopes[s]}</option>`,
                    )}
                  </select></label
                >
                <label>${c.key}<input name="key" /></label>
                <label
                  >${c.team}
                  <select name="teamId" required>
                    ${this._teams.map((t) => html`<option value=${t.id}>${t.name}</option>`)}
                  </select></label
                >
                <button class="primary" type="submit">${c.set}</button>
              </form>`
            : nothing
        }
        ${
          this._coverage.length === 0
            ? html`<p class="muted">${c.none}</p>`
            : html`<table>
                <tbody>
                  ${this._coverage.map(
                    (entry) =>
                      html`<tr
                        data-testid="coverage"
                        data-scope=${entry.scope}
                        data-key=${entry.key}
                      >
                        <td>${c.scopes[entry.scope] ?? entry.scope}</td>
                        <td>${entry.key || '–'}</td>
                        <td>${teamName(entry.teamId)}</td>
                        <td>
                          ${
                            this.canEdit
                              ? html`<button
                                  type="button"
                                  @click=${() =>
                                    void this.change(() =>
                                      this.session.client.deleteCoverage(entry.id),
                                    )}
                                >
                                  ${strings.oncall.remove}
                                </button>`
                              : nothing
                          }
                        </td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
        }
      </section>
    `;
  }

  private async _lookup(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const siteId = field(new FormData(event.target as HTMLFormElement), 'siteId');
    if (siteId === null) return;
    this._error = null;
    try {
      this._site = await this.session.client.fetchSiteOnCall(siteId);
    } catch (error) {
      this._error = problem(error);
    }
  }

  private async _savePerson(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const fields: Required<OnCallPersonPatch> = {
      name: field(data, 'name') ?? '',
      phone: field(data, 'phone'),
      email: field(data, 'email'),
      dingtalkUserId: field(data, 'dingtalkUserId'),
      wecomUserId: field(data, 'wecomUserId'),
      feishuOpenId: field(data, 'feishuOpenId'),
      language: field(data, 'language') === 'en' ? 'en' : 'zh-CN',
      userName: field(data, 'userName'),
    };
    const editing = this._editing;
    const client = this.session.client;
    const saved = await this.change(() =>
      editing === null
        ? client.createPerson({ id: field(data, 'id') ?? '', ...fields })
        : client.updatePerson(editing.id, fields),
    );
    if (!saved) return;
    if (editing === null) form.reset();
    else this._editing = null;
  }

  private async _addTeam(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const team: OnCallTeamCreate = {
      id: field(data, 'id') ?? '',
      name: field(data, 'name') ?? '',
      language: field(data, 'language') === 'en' ? 'en' : 'zh-CN',
      leadId: field(data, 'leadId'),
      supervisorId: field(data, 'supervisorId'),
      managerId: field(data, 'managerId'),
      channelIds: (field(data, 'channelIds') ?? '')
        .split(',')
        .map((id) => id.trim())
        .filter(Boolean),
    };
    const zone = field(data, 'timeZone');
    if (zone !== null) team.timeZone = zone;
    if (await this.change(() => this.session.client.createTeam(team))) form.reset();
  }

  private async _setCoverage(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const entry: OnCallCoverageWrite = {
      scope: String(data.get('scope')) as OnCallCoverageWrite['scope'],
      key: field(data, 'key') ?? '',
      teamId: String(data.get('teamId')),
    };
    if (await this.change(() => this.session.client.setCoverage(entry))) form.reset();
  }

  private async removePerson(person: OnCallPerson): Promise<void> {
    if (!confirm(strings.oncall.people.removeConfirm(person.name))) return;
    await this.change(() => this.session.client.deletePerson(person.id));
  }

  private async removeTeam(team: OnCallTeam): Promise<void> {
    if (!confirm(strings.oncall.teams.removeConfirm(team.name))) return;
    if (this._openTeam === team.id) this._openTeam = null;
    await this.change(() => this.session.client.deleteTeam(team.id));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vigil-oncall': VigilOncall;
  }
}
