import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { ClockController } from '../controllers/clock.js';
import { ApiRequestError } from '../data/api.js';
import type { Session } from '../data/session.js';
import { chartFields, fetchRecordingTimeline } from '../data/device.js';
import type { ConsoleState } from '../data/store.js';
import type { Device, DeviceOutages, MetricSeries, Ticket } from '../data/types.js';
import { formatAgo, formatDay, formatDuration, formatFull } from '../format.js';
import { href } from '../router.js';
import { reasonLabel, reasonWitness, ticketTitle } from '../wording.js';
import { strings } from '../strings.js';
import { DEFAULT_WARRANTY_YEARS, warrantyEnd, warrantyState } from '../../../shared/warranty.js';
import { controls, page } from '../theme.js';
import '../components/vigil-chart.js';
import '../components/vigil-recording-timeline.js';

const periods = {
  '1h': 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
};
type Period = keyof typeof periods;

/** How often an open recording gap is asked for again (its length and total grow). */
const RECORDING_REFRESH_MS = 15_000;

/**
 * One device: identity and inventory, warranty (from the site's records), current state
 * with its reasons, charts of its metrics over a chosen period, for an NVR its recording
 * (per channel: the gaps on a time line and their totals, from the broker's outage
 * history, loaded again when the device's reasons change), its outages (from its
 * tickets) and tickets, and the remote commands.
 *
 * Test hooks: `[data-testid="device-page"][data-status]`, `[data-testid="period"]`,
 * `[data-testid="chart"]`, `button[data-command]`.
 */
@customElement('vigil-device-page')
export class VigilDevicePage extends LitElement {
  static override styles = [
    controls,
    page,
    css`
      .grid {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr));
        gap: 1rem;
      }
    `,
  ];

  @property({ attribute: false }) session!: Session;
  @property({ attribute: false }) state!: ConsoleState;
  @property() deviceId = '';

  @state() private _period: Period = '1h';
  @state() private _series: Record<string, MetricSeries | null> = {};
  @state() private _range = { from: 0, to: 0 };
  @state() private _tickets: Ticket[] = [];
  @state() private _recording: DeviceOutages | null = null;
  @state() private _recordingFailed = false;
  @state() private _message: string | null = null;
  /** The warranty years of the site's customer's contract (docs/PARTS.md). */
  @state() private _warrantyYears = DEFAULT_WARRANTY_YEARS;

  private readonly clock = new ClockController(this);

  /** The device whose tickets and series are loaded (the element is reused across devices). */
  private loadedFor = '';

  /** The status and reasons the recording was loaded for: a change loads it again. */
  private recordingFor = '';

  override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('deviceId') && this.deviceId !== this.loadedFor) this.load();
    else if (changed.has('state')) {
      const device = this.state.devices.get(this.deviceId);
      if (device?.kind === 'nvr' && reasonsKey(device) !== this.recordingFor) {
        void this.loadRecording();
      }
    }
  }

  /** Loads the recording again while a gap is open, so it grows on screen. */
  private refreshTimer: ReturnType<typeof setInterval> | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.deviceId !== '') this.load();
    this.refreshTimer = setInterval(() => {
      const r = this._recording;
      if (r !== null && (r.channels.some((c) => c.open) || r.down.some((s) => s.open))) {
        void this.loadRecording();
      }
    }, RECORDING_REFRESH_MS);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.refreshTimer);
  }

  private load(): void {
    this.loadedFor = this.deviceId;
    this._tickets = [];
    this._series = {};
    this._recording = null;
    this._recordingFailed = false;
    void this.loadTickets();
    void this.loadSeries();
    void this.loadRecording();
    void this.loadWarrantyYears();
  }

  /** The contract's years of the site's customer; the contract's 3 without one. */
  private async loadWarrantyYears(): Promise<void> {
    const device = this.state.devices.get(this.deviceId);
    const customerId = this.state.sites.find((s) => s.id === device?.siteId)?.customerId;
    if (customerId === undefined || customerId === null) return;
    const customers = await this.session.client.fetchCustomers().catch(() => []);
    const years = customers.find((c) => c.id === customerId)?.contract.warrantyYears;
    if (years !== undefined) this._warrantyYears = years;
  }

  private async loadRecording(): Promise<void> {
    const id = this.deviceId;
    const device = this.state.devices.get(id);
    if (device?.kind !== 'nvr') return;
    this.recordingFor = reasonsKey(device);
    const to = new Date();
    const from = new Date(to.getTime() - periods[this._period]);
    try {
      const answer = await fetchRecordingTimeline(this.session.client, device, from, to);
      if (id !== this.deviceId) return;
      this._recording = answer;
      this._recordingFailed = false;
    } catch {
      if (id === this.deviceId) this._recordingFailed = true;
    }
  }

  private async loadTickets(): Promise<void> {
    const id = this.deviceId;
    const tickets = await this.session.client.fetchTicketsOf({ deviceId: id }).catch(() => []);
    // An answer for the device shown before this one is dropped.
    if (id === this.deviceId) this._tickets = tickets;
  }

  private async loadSeries(): Promise<void> {
    const to = new Date();
    const from = new Date(to.getTime() - periods[this._period]);
    const loaded: Record<string, MetricSeries | null> = {};
    const id = this.deviceId;
    const fields = chartFields(this.state.devices.get(id)?.kind);
    await Promise.all(
      fields.map(async (field) => {
        loaded[field] = await this.session.client
          .fetchSeries({
            device: id,
            field,
            from: from.toISOString(),
            to: to.toISOString(),
          })
          .catch(() => null);
      }),
    );
    if (id !== this.deviceId) return;
    this._series = loaded;
    this._range = { from: from.getTime(), to: to.getTime() };
  }

  override render() {
    const d = strings.device;
    const device = this.state.devices.get(this.deviceId);
    if (device === undefined) return html`<p role="alert">${d.notFound(this.deviceId)}</p>`;
    const now = this.clock.now;
    const site = this.state.sites.find((s) => s.id === device.siteId);
    const record = site?.devices.find((r) => r.deviceId === device.id);
    // The warranty rule is shared/warranty.ts's, the one the broker's lists and reports read.
    const warrantyEndsOn = warrantyEnd(
      {
        replacedOn: record?.replacedOn ?? null,
        acceptedOn: record?.acceptedOn ?? null,
        siteAcceptedOn: site?.acceptedOn ?? null,
        warrantyEndsOn: record?.warrantyEndsOn ?? null,
      },
      this._warrantyYears,
    );
    const id = device.identity;
    const role = this.state.user?.role;
    const canAct = role === 'operator' || role === 'admin';
    const outages = this._tickets.filter((t) => t.fault === 'device-down');
    return html`<article data-testid="device-page" data-status=${device.status}>
      <p><a href=${href.fleet(device.siteId)}>← ${strings.nav.fleet}</a></p>
      <h2>
        ${device.name} <small class="muted">${device.id}</small>
        <span class="pill" data-state=${device.status}
          >${strings.devices.status[device.status]}</span
        >
      </h2>
      ${
        canAct
          ? html`<p class="row">
              <button
                type="button"
                data-command="poll-now"
                @click=${() => this.command('poll-now')}
              >
                ${d.pollNow}
              </button>
              <button
                type="button"
                data-command="rediscover"
                @click=${() => this.command('rediscover')}
              >
                ${d.rediscover}
              </button>
              ${this._message === null ? nothing : html`<span role="status">${this._message}</span>`}
            </p>`
          : nothing
      }
      ${this.renderCertificate(device, canAct)}
      <div class="grid">
        <section class="card">
          <h3>${d.identity}</h3>
          <dl class="facts">
            <dt>${d.manufacturer}</dt>
            <dd>${id?.manufacturer ?? '–'}</dd>
            <dt>${d.model}</dt>
            <dd>${id?.model ?? '–'}</dd>
            <dt>${d.firmware}</dt>
            <dd>${id?.firmwareVersion ?? '–'}</dd>
            <dt>${d.serial}</dt>
            <dd>${device.serialNumber ?? '–'}</dd>
            <dt>${d.hardware}</dt>
            <dd>${id?.hardwareId ?? '–'}</dd>
            <dt>${d.address}</dt>
            <dd>${device.xaddr}</dd>
            <dt>${d.site}</dt>
            <dd><a href=${href.fleet(device.siteId)}>${site?.name ?? device.siteId}</a></dd>
            <dt>${d.agent}</dt>
            <dd>${device.agentId}</dd>
            <dt>${d.warranty}</dt>
            <dd data-testid="warranty">
              ${
                warrantyEndsOn === null
                  ? d.warrantyUnknown
                  : warrantyState(warrantyEndsOn, new Date(now)) === 'expired'
                    ? d.warrantyOver(formatDay(warrantyEndsOn))
                    : d.warrantyEnds(formatDay(warrantyEndsOn))
              }
            </dd>
            ${
              record === undefined
                ? nothing
                : html`<dt>${d.criticality}</dt>
                    <dd>${record.criticality}</dd>`
            }
          </dl>
        </section>
        <section class="card">
          <h3>${d.checks}</h3>
          <dl class="facts">
            <dt>${strings.fleet.columns.state}</dt>
            <dd>${strings.devices.status[device.status]}</dd>
            <dt>${d.since}</dt>
            <dd>${device.since === null ? '–' : formatFull(device.since)}</dd>
            <dt>${strings.fleet.columns.lastSeen}</dt>
            <dd>
              ${device.lastSeen === null ? strings.devices.neverSeen : formatAgo(device.lastSeen, now)}
            </dd>
            <dt>${strings.fleet.columns.response}</dt>
            <dd>
              ${device.responseMs === null ? '–' : strings.fleet.responseMs(device.responseMs)}
            </dd>
          </dl>
          ${
            device.reasons.length === 0
              ? html`<p class="ok">${strings.devices.noReasons}</p>`
              : html`<ul>
                  ${device.reasons.map(
                    (r) =>
                      html`<li data-reason=${r.code}>
                        <strong>${reasonLabel(r)}</strong>: ${r.message}
                        ${
                          r.witness
                            ? html`<em data-testid="reason-witness" data-witness=${r.witness}
                                >(${reasonWitness(r)})</em
                              >`
                            : nothing
                        }
                      </li>`,
                  )}
                </ul>`
          }
        </section>
      </div>
      <section class="card">
        <div class="row">
          <h3>${d.charts}</h3>
          <label
            >${d.period}
            <select data-testid="period" @change=${this._periodChange}>
              ${Object.keys(periods).map(
                (p) =>
                  html`<option value=${p} ?selected=${p === this._period}>${d.periods[p]}</option>`,
              )}
            </select></label
          >
        </div>
        ${chartFields(device.kind).map(
          (field) =>
            html`<h3>${d.fields[field]}</h3>
              <vigil-chart
                .series=${this._series[field] ?? null}
                .from=${this._range.from}
                .to=${this._range.to}
                label=${d.fields[field] ?? field}
              ></vigil-chart>`,
        )}
      </section>
      ${
        device.kind === 'nvr'
          ? html`<section class="card">
              <h3>${d.recording.title}</h3>
              <vigil-recording-timeline
                .outages=${this._recording}
                ?failed=${this._recordingFailed}
              ></vigil-recording-timeline>
            </section>`
          : nothing
      }
      <section class="card">
        <h3>${d.outages}</h3>
        ${
          outages.length === 0
            ? html`<p class="muted">${d.noOutages}</p>`
            : html`<table>
                <tbody>
                  ${outages.map(
                    (t) =>
                      html`<tr>
                        <td>${formatFull(t.openedAt)}</td>
                        <td>
                          ${
                            t.resolvedAt === null
                              ? strings.tickets.status[t.status]
                              : formatDuration(Date.parse(t.resolvedAt) - Date.parse(t.openedAt))
                          }
                        </td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
        }
      </section>
      <section class="card">
        <h3>${d.tickets}</h3>
        ${
          this._tickets.length === 0
            ? html`<p class="muted">${d.noTickets}</p>`
            : html`<ul>
                ${this._tickets.map(
                  (t) =>
                    html`<li>
                      <a href=${href.ticket(t.id)}
                        >${strings.tickets.number(t.id)} ${ticketTitle(t)}</a
                      >
                      · ${strings.tickets.status[t.status]}
                    </li>`,
                )}
              </ul>`
        }
      </section>
    </article>`;
  }

  private _periodChange(event: Event): void {
    this._period = (event.target as HTMLSelectElement).value as Period;
    void this.loadSeries();
    void this.loadRecording();
  }

  /** A changed HTTPS certificate: both fingerprints, and for operators the way to accept it. */
  private renderCertificate(device: Device, canAct: boolean) {
    const change = device.reasons.find((r) => r.code === 'certificate-changed')?.certificate;
    if (change === undefined) return nothing;
    const d = strings.device;
    return html`<section class="card" role="alert" data-testid="certificate-changed">
      <p>${d.certificateChanged}</p>
      <dl class="facts">
        <dt>${d.pinnedCertificate}</dt>
        <dd><code>${change.pinned}</code></dd>
        <dt>${d.presentedCertificate}</dt>
        <dd><code data-testid="presented-fingerprint">${change.presented}</code></dd>
      </dl>
      ${
        canAct
          ? html`<button
              type="button"
              data-command="trust-certificate"
              @click=${() => this.trust(change.presented)}
            >
              ${d.trustCertificate}
            </button>`
          : nothing
      }
    </section>`;
  }

  private async trust(presented: string): Promise<void> {
    const device = this.state.devices.get(this.deviceId);
    if (device === undefined || !window.confirm(strings.device.trustConfirm(presented))) return;
    this._message = strings.loading;
    try {
      const answer = await this.session.client.trustCertificate(device, presented);
      this._message = answer.ok
        ? strings.device.commandSent
        : (answer.error ?? strings.device.commandFailed);
    } catch (error) {
      this._message = error instanceof Error ? error.message : String(error);
    }
  }

  private async command(command: 'poll-now' | 'rediscover'): Promise<void> {
    const device = this.state.devices.get(this.deviceId);
    if (device === undefined) return;
    this._message = strings.loading;
    try {
      const answer = await this.session.client.sendCommand(device, command);
      this._message = answer.ok
        ? strings.device.commandSent
        : (answer.error ?? strings.device.commandFailed);
    } catch (error) {
      // An older broker without the command route answers 404 for the path.
      const missing = error instanceof ApiRequestError && error.status === 404;
      this._message = missing
        ? strings.errors.notAvailable
        : error instanceof Error
          ? error.message
          : String(error);
    }
  }
}

/** What of a device changes its recording timeline: its status and its reasons. */
function reasonsKey(device: Device): string {
  return `${device.id}|${device.status}|${device.reasons.map((r) => `${r.code}:${r.channel ?? ''}`).join(',')}`;
}

declare global {
  interface HTMLElementTagNameMap {
    'vigil-device-page': VigilDevicePage;
  }
}
