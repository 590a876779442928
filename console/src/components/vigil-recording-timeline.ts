import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { spanPlacement } from '../data/device.js';
import type { ChannelOutages, DeviceOutages, OutageSpan } from '../data/types.js';
import { formatDuration, formatFull, formatPercent } from '../format.js';
import { strings } from '../strings.js';
import { page } from '../theme.js';

/**
 * An NVR's recording over the chosen period, one track per channel (every recording the
 * agent listed, named by its source camera, clean ones included): the channel's gaps
 * (recording stopped; an open one hatched), the time the recorder was down (grey, on
 * every track), and the channel's total as the broker counts it (GET
 * /api/devices/:id/outages). Every gap is focusable and says what it was (title and
 * aria-label); the table under the tracks lists them too.
 *
 * Test hooks: `[data-testid="recording-timeline"][data-channels][data-gaps][data-all-channels]`,
 * `[data-testid="channel-track"][data-channel][data-gaps][data-open]`,
 * `[data-testid="recording-gap"][data-channel][data-open]`, `[data-testid="down-span"]`,
 * `[data-testid="channel-total"][data-channel][data-gap-s]`.
 */
@customElement('vigil-recording-timeline')
export class VigilRecordingTimeline extends LitElement {
  static override styles = [
    page,
    css`
      .tracks {
        display: grid;
        grid-template-columns: minmax(6rem, max-content) 1fr minmax(9rem, max-content);
        gap: 0.35rem 0.75rem;
        align-items: center;
      }
      .track {
        position: relative;
        height: 1.4rem;
        background: var(--vigil-up-bg);
        border: 1px solid var(--vigil-border);
        border-radius: 3px;
        overflow: hidden;
      }
      .gap,
      .down {
        position: absolute;
        top: 0;
        bottom: 0;
        print-color-adjust: exact;
        -webkit-print-color-adjust: exact;
      }
      .gap {
        background: var(--vigil-down);
      }
      .down {
        background: var(--vigil-unknown);
      }
      .gap[data-open] {
        background: repeating-linear-gradient(
          45deg,
          var(--vigil-down),
          var(--vigil-down) 4px,
          var(--vigil-down-bg) 4px,
          var(--vigil-down-bg) 8px
        );
      }
      .gap:focus-visible,
      .down:focus-visible {
        outline: 3px solid var(--vigil-focus);
        outline-offset: 1px;
        z-index: 1;
      }
      .ends {
        display: flex;
        justify-content: space-between;
        font-size: 0.8rem;
        grid-column: 2;
      }
      .total {
        font-variant-numeric: tabular-nums;
      }
    `,
  ];

  /** The broker's answer; null while loading. */
  @property({ attribute: false }) outages: DeviceOutages | null = null;
  /** The last load failed (the page keeps the previous answer if it had one). */
  @property({ type: Boolean }) failed = false;

  /** What the recorder calls the channel (its source camera), else its recording token. */
  private channelName(channel: string, name?: string): string {
    return channel === '' ? strings.device.recording.wholeDevice : (name ?? channel);
  }

  private gapLabel(c: ChannelOutages, span: OutageSpan): string {
    const r = strings.device.recording;
    const from = Date.parse(span.started);
    const to = Date.parse(span.ended);
    return r.stoppedGap(
      this.channelName(c.channel, c.name),
      formatFull(from),
      span.open ? r.ongoing : formatFull(to),
      formatDuration(to - from, { coarse: true }),
    );
  }

  private downLabel(span: OutageSpan): string {
    const r = strings.device.recording;
    const from = Date.parse(span.started);
    const to = Date.parse(span.ended);
    return r.downGap(
      formatFull(from),
      span.open ? r.ongoing : formatFull(to),
      formatDuration(to - from, { coarse: true }),
    );
  }

  private track(c: ChannelOutages, o: DeviceOutages) {
    const r = strings.device.recording;
    const from = Date.parse(o.from);
    const to = Date.parse(o.to);
    const name = this.channelName(c.channel, c.name);
    return html`<span id="ch-${c.channel}" title=${c.channel}>${name}</span>
      <div
        class="track"
        role="group"
        aria-labelledby="ch-${c.channel}"
        data-testid="channel-track"
        data-channel=${c.channel}
        data-gaps=${c.spans.length}
        ?data-open=${c.open}
      >
        ${o.down.map((span) => {
          const { leftPct, widthPct } = spanPlacement(span, from, to);
          const label = this.downLabel(span);
          return html`<span
            class="down"
            data-testid="down-span"
            tabindex="0"
            role="img"
            aria-label=${label}
            title=${label}
            style="left:${leftPct}%;width:${widthPct}%"
          ></span>`;
        })}
        ${c.spans.map((span) => {
          const { leftPct, widthPct } = spanPlacement(span, from, to);
          const label = this.gapLabel(c, span);
          return html`<span
            class="gap"
            data-testid="recording-gap"
            data-channel=${c.channel}
            ?data-open=${span.open}
            tabindex="0"
            role="img"
            aria-label=${label}
            title=${label}
            style="left:${leftPct}%;width:${widthPct}%"
          ></span>`;
        })}
      </div>
      <span class="total" data-testid="channel-total" data-channel=${c.channel} data-gap-s=${c.gapS}
        >${
          c.gapS === 0
            ? '–'
            : r.totalOf(formatDuration(c.gapS * 1000, { coarse: true }), formatPercent(c.share))
        }</span
      >`;
  }

  override render() {
    const r = strings.device.recording;
    const o = this.outages;
    if (o === null) {
      return html`<div data-testid="recording-timeline" data-channels="0" data-gaps="0">
        <p class="muted" role=${this.failed ? 'alert' : nothing}>
          ${this.failed ? r.failed : r.loading}
        </p>
      </div>`;
    }
    const gaps = o.channels.reduce((n, c) => n + c.spans.length, 0);
    const stopped = o.channels.filter((c) => c.open);
    const named = o.channels.filter((c) => c.channel !== '').length;
    // An agent that lists the recorder's recordings gives every channel a track; an older
    // one names only the channels that stopped, and the others are counted.
    const others =
      o.allChannels || o.channelCount === null ? 0 : Math.max(0, o.channelCount - named);
    const withGap = o.channels.filter((c) => c.channel !== '' && c.gapS > 0).length;
    const rows = o.channels.flatMap((c) => c.spans.map((span) => ({ c, span })));
    rows.sort((a, b) => a.span.started.localeCompare(b.span.started));
    return html`<div
      data-testid="recording-timeline"
      data-channels=${o.channels.length}
      data-gaps=${gaps}
      ?data-all-channels=${o.allChannels}
      data-down=${o.down.length}
    >
      ${this.failed ? html`<p role="alert">${r.failed}</p>` : nothing}
      ${
        stopped.length === 0 && o.down.every((s) => !s.open)
          ? html`<p class="ok">${r.allRecording}</p>`
          : nothing
      }
      ${
        o.channels.length === 0
          ? html`<p class="muted">${r.noChannels}</p>`
          : html`<h4>${r.timeline}</h4>
              <div class="tracks">
                ${o.channels.map((c) => this.track(c, o))}
                <div class="ends muted">
                  <span>${formatFull(Date.parse(o.from))}</span>
                  <span>${formatFull(Date.parse(o.to))}</span>
                </div>
              </div>`
      }
      ${
        o.allChannels && named > 0
          ? html`<p class="muted" data-testid="channels-with-gap">
              ${r.channelsWithGap(withGap, named)}
            </p>`
          : nothing
      }
      ${
        others > 0 && o.channelCount !== null
          ? html`<p class="muted" data-testid="other-channels">
              ${r.otherChannels(others, o.channelCount)}
            </p>`
          : nothing
      }
      ${o.down.length > 0 ? html`<p class="muted">${r.downNote}</p>` : nothing}
      ${
        rows.length === 0
          ? html`<p class="muted">${r.noGaps}</p>`
          : html`<table>
              <thead>
                <tr>
                  <th scope="col">${r.channel}</th>
                  <th scope="col">${r.from}</th>
                  <th scope="col">${r.to}</th>
                  <th scope="col">${r.duration}</th>
                </tr>
              </thead>
              <tbody>
                ${rows.map(
                  ({ c, span }) =>
                    html`<tr data-testid="gap-row" data-channel=${c.channel}>
                      <th scope="row">${this.channelName(c.channel, c.name)}</th>
                      <td>${formatFull(Date.parse(span.started))}</td>
                      <td>${span.open ? r.ongoing : formatFull(Date.parse(span.ended))}</td>
                      <td>
                        ${formatDuration(Date.parse(span.ended) - Date.parse(span.started), {
                          coarse: true,
                        })}
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
      <p class="muted"><small>${r.retention(o.retentionDays)}</small></p>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vigil-recording-timeline': VigilRecordingTimeline;
  }
}
