/**
 * The inspection report's 12-month charts (inline SVG, labelled in the report's language):
 * the renderer lives in shared/inspection-charts.ts, where the console's bundle can take it
 * too, so the printed page and the console screen draw the same charts.
 */
export * from '../../shared/inspection-charts.js';
