/**
 * The broker's pipeline: the one place that lists the stages and their order (the Aedes
 * habit of named steps in an array). Stages never import each other; each reads and
 * fills the context (./types.ts).
 *
 *   decode -> validate -> dedupe -> track-state -> store-metrics -> detect -> ticket
 *
 * The broker's clock runs the same list (Pipeline.tick): each stage that acts on time
 * (detect, ticket) has a `tick` of its own, in the same order.
 */
import type { Detector } from '../detect/detector.js';
import type { DeviceRegistry } from '../devices/registry.js';
import type { BrokerEvents } from '../events.js';
import type { Log } from '../log.js';
import { decodeStage } from '../stages/decode.js';
import { dedupeStage } from '../stages/dedupe.js';
import { detectStage } from '../stages/detect.js';
import { storeMetricsStage, type PointSink } from '../stages/store-metrics.js';
import { ticketStage } from '../stages/ticket.js';
import { trackStateStage } from '../stages/track-state.js';
import { validateStage } from '../stages/validate.js';
import type { TicketService } from '../tickets/types.js';
import type { Stage } from './types.js';

export { Pipeline, type PipelineCounters } from './pipeline.js';
export { DeadLetterStore, type DeadLetter, type DeadLetterSink } from './dead-letters.js';

export interface StageDeps {
  registry: DeviceRegistry;
  events: BrokerEvents;
  /** The batching metrics writer. */
  metrics: PointSink;
  tickets: TicketService;
  /** Suppression, flapping, liveness, degradations (broker/detect/). */
  detector: Detector;
  /** Where the ticket stage says that a detection could not be applied. */
  log: Log;
  /** Told of each duplicate the dedupe stage drops (agent "site/agent"). */
  onDuplicate?: (agent: string) => void;
}

export function brokerStages(deps: StageDeps): Stage[] {
  return [
    decodeStage(),
    validateStage(),
    dedupeStage(deps.onDuplicate ? { onDuplicate: deps.onDuplicate } : {}),
    trackStateStage(deps.registry, deps.events),
    storeMetricsStage(deps.metrics),
    detectStage(deps.detector),
    ticketStage(deps.tickets, deps.log),
  ];
}
