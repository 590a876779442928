/**
 * Design tokens as CSS custom properties, set on <vigil-app> and inherited through every
 * shadow root below it. Status colours always come with a text label (WCAG 2.1, 1.4.1
 * "Use of Color"); text on its background keeps at least 4.5:1 contrast (1.4.3).
 */
import { css } from 'lit';

export const theme = css`
  :host {
    --vigil-font:
      system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'Noto Sans',
      'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', 'WenQuanYi Micro Hei', sans-serif;
    --vigil-mono:
      ui-monospace, 'SFMono-Regular', Menlo, Consolas, 'Liberation Mono', 'Noto Sans Mono CJK SC',
      monospace;

    --vigil-bg: #f3f4f6;
    --vigil-surface: #ffffff;
    --vigil-border: #d1d5db;
    --vigil-text: #111827;
    --vigil-muted: #4b5563;
    --vigil-accent: #1d4ed8;
    --vigil-accent-text: #ffffff;
    --vigil-focus: #2563eb;

    --vigil-up: #15803d;
    --vigil-up-bg: #dcfce7;
    --vigil-up-text: #14532d;
    --vigil-degraded: #d97706;
    --vigil-degraded-bg: #fef3c7;
    --vigil-degraded-text: #78350f;
    --vigil-down: #dc2626;
    --vigil-down-bg: #fee2e2;
    --vigil-down-text: #7f1d1d;
    --vigil-unknown: #6b7280;
    --vigil-unknown-bg: #e5e7eb;
    --vigil-unknown-text: #1f2937;
    --vigil-info: #2563eb;
    --vigil-info-bg: #dbeafe;
    --vigil-info-text: #1e3a8a;

    --vigil-radius: 6px;
    color-scheme: light;
  }

  @media (prefers-color-scheme: dark) {
    :host {
      --vigil-bg: #0b1220;
      --vigil-surface: #111a2e;
      --vigil-border: #2b3650;
      --vigil-text: #e5e7eb;
      --vigil-muted: #9ca3af;
      --vigil-accent: #3b82f6;
      --vigil-accent-text: #ffffff;
      --vigil-focus: #93c5fd;

      --vigil-up: #22c55e;
      --vigil-up-bg: #052e16;
      --vigil-up-text: #bbf7d0;
      --vigil-degraded: #f59e0b;
      --vigil-degraded-bg: #3a2204;
      --vigil-degraded-text: #fde68a;
      --vigil-down: #ef4444;
      --vigil-down-bg: #450a0a;
      --vigil-down-text: #fecaca;
      --vigil-unknown: #9ca3af;
      --vigil-unknown-bg: #1f2937;
      --vigil-unknown-text: #e5e7eb;
      --vigil-info: #60a5fa;
      --vigil-info-bg: #172554;
      --vigil-info-text: #bfdbfe;
      color-scheme: dark;
    }
  }
`;

/** Buttons and focus rings shared by the elements that have controls. */
export const controls = css`
  button {
    font: inherit;
    color: var(--vigil-text);
    background: var(--vigil-surface);
    border: 1px solid var(--vigil-border);
    border-radius: var(--vigil-radius);
    padding: 0.4rem 0.8rem;
    cursor: pointer;
  }
  button:hover {
    border-color: var(--vigil-muted);
  }
  button.primary {
    color: var(--vigil-accent-text);
    background: var(--vigil-accent);
    border-color: var(--vigil-accent);
  }
  button:disabled {
    opacity: 0.6;
    cursor: default;
  }
  :focus-visible {
    outline: 3px solid var(--vigil-focus);
    outline-offset: 2px;
  }
`;

/** Sections, tables and form fields shared by the screens. */
export const page = css`
  :host {
    display: block;
  }
  h2 {
    margin: 0 0 0.6rem;
    font-size: 1.15rem;
  }
  h3 {
    margin: 0 0 0.4rem;
    font-size: 1rem;
  }
  a {
    color: var(--vigil-accent);
  }
  .card {
    background: var(--vigil-surface);
    border: 1px solid var(--vigil-border);
    border-radius: var(--vigil-radius);
    padding: 0.8rem 1rem;
    margin-bottom: 1rem;
  }
  table {
    width: 100%;
    border-collapse: collapse;
    font-variant-numeric: tabular-nums;
  }
  th,
  td {
    text-align: left;
    padding: 0.3rem 0.5rem;
    border-bottom: 1px solid var(--vigil-border);
    vertical-align: top;
  }
  th {
    font-size: 0.8rem;
    color: var(--vigil-muted);
    font-weight: 600;
  }
  dl.facts {
    display: grid;
    grid-template-columns: max-content 1fr;
    gap: 0.25rem 1rem;
    margin: 0;
  }
  dl.facts dt {
    color: var(--vigil-muted);
  }
  dl.facts dd {
    margin: 0;
  }
  label {
    display: grid;
    gap: 0.2rem;
    font-size: 0.85rem;
    color: var(--vigil-muted);
  }
  input,
  select,
  textarea {
    font: inherit;
    color: var(--vigil-text);
    background: var(--vigil-surface);
    border: 1px solid var(--vigil-border);
    border-radius: var(--vigil-radius);
    padding: 0.35rem 0.5rem;
  }
  .row {
    display: flex;
    flex-wrap: wrap;
    gap: 0.6rem;
    align-items: end;
  }
  .error {
    color: var(--vigil-down-text);
    background: var(--vigil-down-bg);
    border-left: 4px solid var(--vigil-down);
    padding: 0.4rem 0.6rem;
    border-radius: var(--vigil-radius);
  }
  .ok {
    color: var(--vigil-up-text);
  }
  .muted {
    color: var(--vigil-muted);
  }
  .pill {
    display: inline-block;
    padding: 0.05rem 0.5rem;
    border-radius: 999px;
    font-size: 0.8rem;
    font-weight: 700;
    color: var(--vigil-unknown-text);
    background: var(--vigil-unknown-bg);
  }
  [data-state='ok'] .pill,
  .pill[data-state='ok'],
  .pill[data-state='up'] {
    color: var(--vigil-up-text);
    background: var(--vigil-up-bg);
  }
  .pill[data-state='degraded'] {
    color: var(--vigil-degraded-text);
    background: var(--vigil-degraded-bg);
  }
  .pill[data-state='down'],
  .pill[data-state='unreachable'] {
    color: var(--vigil-down-text);
    background: var(--vigil-down-bg);
  }
  .pill[data-state='maintenance'] {
    color: var(--vigil-info-text);
    background: var(--vigil-info-bg);
  }
`;
