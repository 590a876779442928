/**
 * The broker's pipeline stages: the one place that lists them and their order (the Aedes
 * habit of named steps in an array, like the agent's checks/index.ts). Stages never
 * import each other; each reads and fills the context (broker/pipeline/types.ts), and
 * broker/pipeline/ runs them.
 *
 *   decode -> validate -> dedupe -> track-state -> store-metrics -> detect -> ticket
 *
 * The broker's clock runs the same list (Pipeline.tick): each stage that acts on time
 * (detect, ticket) has a `tick` of its own, in the same order.
 *
 * The list lives here, beside the stages, and not in broker/pipeline/: the pipeline's
 * types are what every stage and the MQTT front door import, so a list there would tie
 * pipeline/ and every folder a stage uses into one import cycle.
 */
import type { Detector } from '../detect/detector.js';
import type { DeviceRegistry } from '../devices/registry.js';
import type { BrokerEvents } from '../events.js';
import type { Log } from '../log.js';
import type { Stage } from '../pipeline/types.js';
import type { TicketService } from '../tickets/types.js';
import { decodeStage } from './decode.js';
import { dedupeStage } from './dedupe.js';
import { detectStage } from './detect.js';
import { storeMetricsStage, type PointSink } from './store-metrics.js';
import { ticketStage } from './ticket.js';
import { trackStateStage } from './track-state.js';
import { validateStage } from './validate.js';

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
