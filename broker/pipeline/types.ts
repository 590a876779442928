/**
 * The types every pipeline stage shares. A stage is a named step; the order lives in
 * broker/stages/index.ts only, and stages never import each other (STYLE habit 6):
 * they talk through the context.
 */
import type { Device } from '../../shared/api/devices.js';
import type { PublishedKind, PayloadOf } from '../../shared/contract.js';
import type { ParsedTopic } from '../../shared/topics.js';
import type { Message } from '../../shared/wording/messages.js';

/** One MQTT message as it came in. */
export interface Envelope {
  topic: string;
  payload: Buffer;
  /** MQTT client id and the authenticated identity that published it. */
  clientId: string;
  /** The agent account the client logged in with (broker/mqtt/ authenticated it). */
  agent?: { siteId: string; agentId: string };
  receivedAt: Date;
}

export type DecodedMessage = {
  [K in PublishedKind]: { kind: K; payload: PayloadOf<K> };
}[PublishedKind];

/**
 * What the detector decided (broker/detect/): a fault that needs a ticket now, or a
 * fault that is over. The ticket stage turns them into tickets. Held, suppressed and
 * maintenance faults are not emitted until they need one.
 */
export type Detection = FaultRaised | FaultCleared;

/**
 * A fault that needs a ticket. `condition` names the rule that maps it to a priority:
 * "device-down:camera", "site-unreachable", "flapping", "degraded:clock-drift".
 * `title` and `text` are messages with codes (shared/wording/), made words only where a
 * person reads them.
 */
export interface FaultRaised {
  kind: 'fault';
  siteId: string;
  deviceId: string | null;
  fault: string;
  condition: string;
  title: Message;
  /** What was detected: the ticket's first timeline entry. */
  text: Message;
  /** Devices the ticket covers (suppressed children). */
  covers: string[];
  at: Date;
}

/** The fault is over: the open ticket of this site, device and fault resolves itself. */
export interface FaultCleared {
  kind: 'fault-cleared';
  siteId: string;
  deviceId: string | null;
  fault: string;
  text: Message;
  at: Date;
}

export interface PipelineContext {
  envelope: Envelope;
  /** Set by decode. */
  topic?: ParsedTopic;
  /** Set by decode (JSON parsed) and narrowed by validate. */
  raw?: unknown;
  message?: DecodedMessage;
  /** Set by track-state for device state messages: the device before and after. */
  previous?: Device;
  device?: Device;
  detections: Detection[];
  /**
   * Set by a stage that refuses the message (decode, validate): why. The pipeline then
   * stops, keeps the message in the dead-letter table and counts it as rejected.
   */
  rejection?: string;
  /**
   * Work a stage started that must complete before the message counts as finished in the
   * ingest journal (store-metrics: the points written to the store). Never rejects.
   */
  pending?: Promise<unknown>[];
}

export type StageResult = 'continue' | 'stop';

/**
 * One beat of the broker's clock (every `detect.tickMs`, and when a held fault's hold is
 * over). It runs the same stages as a message, in the same order, through their `tick`:
 * detect finds what time decides (held faults, silent agents, flapping that calmed
 * down), ticket opens and resolves them and runs the SLA clocks.
 */
export interface TickContext {
  detections: Detection[];
}

export interface Stage {
  /** Appears in logs and counters: "validate", "store-metrics", ... */
  readonly name: string;
  run(ctx: PipelineContext): StageResult | Promise<StageResult>;
  /** The stage's part of a clock beat; only stages that act on time have one. Synchronous. */
  tick?(ctx: TickContext): void;
}
