import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { clock } from '../controllers/clock.js';
import type { TimelineEntry } from '../data/types.js';
import { formatFull, formatTime } from '../format.js';
import { strings } from '../strings.js';
import { entryText } from '../wording.js';

/**
 * A ticket's history (the contract's service log): each step with when, who and what,
 * oldest first, as the API recorded it. Each entry carries `data-kind`.
 */
@customElement('vigil-timeline')
export class VigilTimeline extends LitElement {
  static override styles = css`
    :host {
      display: block;
    }
    ol {
      list-style: none;
      margin: 0;
      padding: 0 0 0 0.9rem;
      border-left: 2px solid var(--vigil-border);
    }
    li {
      position: relative;
      padding: 0.15rem 0 0.45rem;
    }
    li::before {
      content: '';
      position: absolute;
      left: calc(-0.9rem - 5px);
      top: 0.45rem;
      width: 8px;
      height: 8px;
      border-radius: 50%;
      background: var(--vigil-surface);
      border: 2px solid var(--vigil-muted);
    }
    li[data-kind='detected']::before {
      border-color: var(--vigil-down);
    }
    li[data-kind='resolved']::before,
    li[data-kind='closed']::before {
      border-color: var(--vigil-up);
    }
    .meta {
      font-size: 0.75rem;
      color: var(--vigil-muted);
      font-variant-numeric: tabular-nums;
    }
    .kind {
      font-weight: 600;
      color: var(--vigil-text);
    }
    .text {
      font-size: 0.875rem;
      overflow-wrap: anywhere;
    }
  `;

  @property({ attribute: false }) entries: readonly TimelineEntry[] = [];

  override render() {
    const now = clock.now;
    const ordered = [...this.entries].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    return html`
      <ol aria-label=${strings.timeline.label}>
        ${repeat(
          ordered,
          (entry, index) => `${entry.at}/${entry.kind}/${index}`,
          (entry) => html`
            <li data-kind=${entry.kind}>
              <div class="meta">
                <time datetime=${entry.at} title=${formatFull(entry.at)}
                  >${formatTime(entry.at, now)}</time
                >
                · <span class="kind">${strings.timeline.kind[entry.kind] ?? entry.kind}</span> ·
                ${entry.actor === 'system' ? strings.timeline.system : entry.actor}
              </div>
              <div class="text">${entryText(entry)}</div>
            </li>
          `,
        )}
      </ol>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vigil-timeline': VigilTimeline;
  }
}
