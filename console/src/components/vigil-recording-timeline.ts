import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { gapPlacement, type ChannelStopped, type RecordingGap } from '../data/device.js';
import { formatDuration, formatFull } from '../format.js';
import { href } from '../router.js';
import { strings } from '../strings.js';
import { page } from '../theme.js';

/**
 * An NVR's recording over the chosen period: the channels stopped now (by channel) and
 * the recording gaps on a time line (from the device's recording-stopped tickets).
 *
 * Test hooks: `[data-testid="recording-timeline"][data-gaps]`,
 * `[data-testid="recording-gap"][data-open]`, `[data-testid="channel-stopped"][data-channel]`.
 */
@customElement('vigil-recording-timeline')
export class VigilRecordingTimeline extends LitElement {
  static override styles = [
    page,
    css`
      .track {
        position: relative;
        height: 1.4rem;
        background: var(--vigil-up-bg);
        border: 1px solid var(--vigil-border);
        border-radius: 3px;
        overflow: hidden;
      }
      .gap {
        position: absolute;
        top: 0;
        bottom: 0;
        background: var(--vigil-down);
        print-color-adjust: exact;
        -webkit-print-color-adjust: exact;
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
      .ends {
        display: flex;
        justify-content: space-between;
        font-size: 0.8rem;
      }
    `,
  ];

  @property({ attribute: false }) gaps: readonly RecordingGap[] = [];
  @property({ attribute: false }) stopped: readonly ChannelStopped[] = [];
  /** The period shown, ms since the epoch. */
  @property({ type: Number }) from = 0;
  @property({ type: Number }) to = 0;

  override render() {
    const r = strings.device.recording;
    return html`<div data-testid="recording-timeline" data-gaps=${this.gaps.length}>
      ${
        this.stopped.length === 0
          ? html`<p class="ok">${r.allRecording}</p>`
          : html`<table>
              <caption>
                ${r.stoppedNow}
              </caption>
              <tbody>
                ${this.stopped.map(
                  (c) =>
                    html`<tr data-testid="channel-stopped" data-channel=${c.channel}>
                      <th scope="row">${c.channel === '' ? '–' : c.channel}</th>
                      <td>${c.message}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
      <div class="track" role="img" aria-label=${r.timeline}>
        ${this.gaps.map((gap) => {
          const { leftPct, widthPct } = gapPlacement(gap, this.from, this.to);
          return html`<span
            class="gap"
            data-testid="recording-gap"
            ?data-open=${gap.to === null}
            style="left:${leftPct}%;width:${widthPct}%"
            title=${formatFull(gap.from)}
          ></span>`;
        })}
      </div>
      <div class="ends muted">
        <span>${this.from === 0 ? '' : formatFull(this.from)}</span>
        <span>${this.to === 0 ? '' : formatFull(this.to)}</span>
      </div>
      ${
        this.gaps.length === 0
          ? html`<p class="muted">${r.noGaps}</p>`
          : html`<table>
              <tbody>
                ${this.gaps.map(
                  (gap) =>
                    html`<tr>
                      <td>
                        <a href=${href.ticket(gap.ticketId)}
                          >${strings.tickets.number(gap.ticketId)}</a
                        >
                      </td>
                      <td>${formatFull(gap.from)}</td>
                      <td>${gap.to === null ? r.ongoing : formatDuration(gap.to - gap.from)}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
      <p class="muted"><small>${r.perChannelNote}</small></p>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vigil-recording-timeline': VigilRecordingTimeline;
  }
}
