import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { live } from 'lit/directives/live.js';
import {
  channelBody,
  channelFields,
  channelTypes,
  secretFields,
  testChannel,
} from '../data/channels.js';
import type { Session } from '../data/session.js';
import type { ConsoleState } from '../data/store.js';
import type {
  ChannelType,
  NotifyChannel,
  NotifyChannelDelivery,
  NotifyChannelTestResult,
} from '../data/types.js';
import { formatFull } from '../format.js';
import { strings } from '../strings.js';
import { controls, page } from '../theme.js';

/**
 * Notification channels (admin only): list, add, edit, delete, and a test-send button
 * that shows the service's own answer (DingTalk 310000 sign not match, WeCom 93000 ...).
 * Secrets come back masked; editing leaves a secret field empty to keep it.
 *
 * Delivery log: each channel's newest notifications from the outbox (GET
 * /api/notify/channels/:id/deliveries), shown on demand: delivered, failed with the
 * service's code, merged into a digest, repeated after a crash. Never their texts.
 *
 * Test hooks: `[data-testid="channel-form"]`, `[data-testid="channel"][data-id][data-type]`,
 * `[data-testid="channel-test-result"][data-delivered]`.
 */
@customElement('vigil-channels')
export class VigilChannels extends LitElement {
  static override styles = [
    controls,
    page,
    css`
      .fields {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem 1rem;
      }
      .fields label {
        display: flex;
        flex-direction: column;
        min-width: 14rem;
      }
      code {
        word-break: break-all;
      }
      .ok {
        color: var(--ok, #1a7f37);
      }
    `,
  ];

  @property({ attribute: false }) session!: Session;
  @property({ attribute: false }) state!: ConsoleState;

  @state() private _channels: NotifyChannel[] = [];
  @state() private _error: string | null = null;
  /** The channel being edited; null: the form adds a new one. */
  @state() private _editing: NotifyChannel | null = null;
  @state() private _type: ChannelType = 'dingtalk';
  @state() private _testing: string | null = null;
  @state() private _results: Record<string, NotifyChannelTestResult> = {};
  @state() private _deliveries: Record<string, NotifyChannelDelivery[]> = {};

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      this._channels = await this.session.client.fetchChannels();
    } catch (error) {
      this._error = error instanceof Error ? error.message : String(error);
    }
  }

  override render() {
    const c = strings.channels;
    if (this.state.user?.role !== 'admin') return html`<p role="alert">${c.adminOnly}</p>`;
    return html`
      <h2>${c.title}</h2>
      ${this.renderForm()}
      ${this._error === null ? nothing : html`<p class="error" role="alert">${this._error}</p>`}
      ${
        this._channels.length === 0
          ? html`<p>${c.empty}</p>`
          : html`<table class="card">
              <thead>
                <tr>
                  <th>${c.name}</th>
                  <th>${c.type}</th>
                  <th>${c.address}</th>
                  <th title=${c.defaultHint}>${c.isDefault}</th>
                  <th>${c.enabled}</th>
                  <th>${c.perMinute}</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${this._channels.map((channel) => this.renderRow(channel))}
              </tbody>
            </table>`
      }
    `;
  }

  private renderRow(channel: NotifyChannel) {
    const c = strings.channels;
    const result = this._results[channel.id];
    const address = channel.url ?? channel.host ?? channel.signName ?? '';
    return html`<tr data-testid="channel" data-id=${channel.id} data-type=${channel.type}>
        <td>
          ${channel.name}
          ${
            channel.problem
              ? html`<div class="error" role="alert" data-testid="channel-problem">
                  ${c.unreadable}
                </div>`
              : nothing
          }
        </td>
        <td>${c.types[channel.type] ?? channel.type}</td>
        <td><code>${address}</code></td>
        <td>${channel.default ? c.yes : c.no}</td>
        <td>${channel.enabled ? c.yes : c.no}</td>
        <td>${c.perMinuteValue(channel.perMinute)}</td>
        <td>
          <button type="button" @click=${() => this.startEdit(channel)}>${c.edit}</button>
          <button type="button" @click=${() => this.removeChannel(channel)}>${c.remove}</button>
        </td>
      </tr>
      <tr>
        <td colspan="7">
          <form class="row" @submit=${(e: SubmitEvent) => this.test(e, channel)}>
            <label
              >${c.test.phone}<input name="phone" inputmode="tel" pattern="\\+?[0-9]{5,20}"
            /></label>
            <label>${c.test.email}<input name="email" type="email" /></label>
            <button type="submit" ?disabled=${this._testing === channel.id}>
              ${this._testing === channel.id ? c.test.sending : c.test.button}
            </button>
            ${
              result === undefined
                ? nothing
                : html`<span
                    data-testid="channel-test-result"
                    data-delivered=${String(result.delivered)}
                    class=${result.delivered ? 'ok' : 'error'}
                    role="status"
                    >${
                      result.delivered
                        ? c.test.delivered
                        : c.test.refused(result.code, result.message)
                    }</span
                  >`
            }
          </form>
          ${this.renderDeliveries(channel)}
        </td>
      </tr>`;
  }

  /** The channel's delivery log (the outbox), loaded when asked for. */
  private renderDeliveries(channel: NotifyChannel) {
    const d = strings.channels.deliveries;
    const log = this._deliveries[channel.id];
    const toggle = html`<button
      type="button"
      data-testid="channel-deliveries-toggle"
      @click=${() => this.toggleDeliveries(channel.id)}
    >
      ${log ? d.hide : d.show}
    </button>`;
    if (!log) return toggle;
    return html`${toggle}
    ${
      log.length === 0
        ? html`<p class="muted">${d.empty}</p>`
        : html`<ul data-testid="channel-deliveries">
            ${log.map(
              (row) =>
                html`<li data-state=${row.state}>
                  ${formatFull(row.sentAt ?? row.createdAt)} · ${d.kinds[row.kind] ?? row.kind}
                  ${d.tickets(row.ticketIds)} · <strong>${d.states[row.state] ?? row.state}</strong>
                  ${row.attempts > 1 ? html` · ${d.attempts(row.attempts)}` : nothing}
                  ${row.repeated ? html` · ${d.repeated}` : nothing}
                  ${
                    row.errorCode
                      ? html`<span class="error">(${row.errorCode}: ${row.errorMessage})</span>`
                      : nothing
                  }
                </li>`,
            )}
          </ul>`
    }`;
  }

  private async toggleDeliveries(id: string): Promise<void> {
    if (this._deliveries[id]) {
      const { [id]: _hidden, ...rest } = this._deliveries;
      this._deliveries = rest;
      return;
    }
    try {
      const log = await this.session.client.fetchChannelDeliveries(id);
      this._deliveries = { ...this._deliveries, [id]: log };
    } catch (error) {
      this._error = error instanceof Error ? error.message : String(error);
    }
  }

  private renderForm() {
    const c = strings.channels;
    const editing = this._editing;
    const type = editing?.type ?? this._type;
    const value = (field: string): string => {
      if (!editing || secretFields.has(field)) return '';
      const v = (editing as Record<string, unknown>)[field];
      if (Array.isArray(v)) return v.join(', ');
      return v === undefined || v === null ? '' : String(v);
    };
    const placeholder = (field: string): string => {
      if (!editing || !secretFields.has(field)) return '';
      const shown = (editing as Record<string, unknown>)[field];
      return typeof shown === 'string' ? `${shown} (${c.secretKept})` : c.secretKept;
    };
    return html`<form class="card" data-testid="channel-form" @submit=${this.save}>
      <div class="fields">
        <label
          >${c.name}<input name="name" required maxlength="100" .value=${live(editing?.name ?? '')}
        /></label>
        <label
          >${c.type}
          <select
            name="type"
            ?disabled=${editing !== null}
            @change=${(e: Event) => (this._type = (e.target as HTMLSelectElement).value as ChannelType)}
          >
            ${channelTypes.map(
              (t) => html`<option value=${t} ?selected=${t === type}>${c.types[t] ?? t}</option>`,
            )}
          </select></label
        >
        ${channelFields[type].map((field) =>
          field === 'tls'
            ? html`<label
                >${c.fields.tls}
                <select name="tls">
                  ${['starttls', 'implicit', 'none'].map(
                    (t) =>
                      html`<option value=${t} ?selected=${value('tls') === t}>
                        ${c.tls[t] ?? t}
                      </option>`,
                  )}
                </select></label
              >`
            : html`<label
                >${c.fields[field] ?? field}<input
                  name=${field}
                  type=${field === 'port' ? 'number' : secretFields.has(field) && field !== 'url' ? 'password' : 'text'}
                  autocomplete="off"
                  .value=${live(value(field))}
                  placeholder=${placeholder(field)}
              /></label>`,
        )}
        <label title=${c.defaultHint}
          >${c.isDefault}<input
            name="default"
            type="checkbox"
            .checked=${live(editing?.default ?? false)}
        /></label>
        <label
          >${c.enabled}<input
            name="enabled"
            type="checkbox"
            .checked=${live(editing?.enabled ?? true)}
        /></label>
      </div>
      <button class="primary" type="submit">${editing ? c.save : c.add}</button>
      ${
        editing
          ? html`<button type="button" @click=${() => (this._editing = null)}>${c.cancel}</button>`
          : nothing
      }
    </form>`;
  }

  private startEdit(channel: NotifyChannel): void {
    this._editing = channel;
    this._error = null;
  }

  private async save(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const editing = this._editing;
    const type = editing?.type ?? this._type;
    const common = {
      name: String(data.get('name') ?? '').trim(),
      default: data.get('default') === 'on',
      enabled: data.get('enabled') === 'on',
    };
    this._error = null;
    try {
      if (editing) {
        await this.session.client.updateChannel(editing.id, {
          ...common,
          ...channelBody(type, data),
        });
        this._editing = null;
      } else {
        await this.session.client.createChannel({ ...common, type, ...channelBody(type, data) });
      }
      form.reset();
      // reset() puts the checkboxes back to their HTML defaults; `live` re-renders them from state.
      this.requestUpdate();
      await this.load();
    } catch (error) {
      this._error = error instanceof Error ? error.message : String(error);
    }
  }

  private async removeChannel(channel: NotifyChannel): Promise<void> {
    if (!confirm(strings.channels.removeConfirm(channel.name))) return;
    try {
      await this.session.client.deleteChannel(channel.id);
      await this.load();
    } catch (error) {
      this._error = error instanceof Error ? error.message : String(error);
    }
  }

  private async test(event: SubmitEvent, channel: NotifyChannel): Promise<void> {
    event.preventDefault();
    const data = new FormData(event.target as HTMLFormElement);
    const to: { phone?: string; email?: string } = {};
    const phone = String(data.get('phone') ?? '').trim();
    const email = String(data.get('email') ?? '').trim();
    if (phone) to.phone = phone;
    if (email) to.email = email;
    this._testing = channel.id;
    this._error = null;
    try {
      const result = await testChannel(this.session.client, channel.id, to);
      this._results = { ...this._results, [channel.id]: result };
    } catch (error) {
      this._error = error instanceof Error ? error.message : String(error);
    } finally {
      this._testing = null;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vigil-channels': VigilChannels;
  }
}
