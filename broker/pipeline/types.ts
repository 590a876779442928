/**
 * The types every pipeline stage shares. A stage is a named step; the order lives in
 * broker/pipeline/index.ts only, and stages never import each other (STYLE habit 6):
 * they talk through the context.
 */
import type { Device } from '../../shared/api/devices.js';
import type { PublishedKind, PayloadOf } from '../../shared/contract.js';
import type { ParsedTopic } from '../../shared/topics.js';

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
 * A condition the detector found. The ticket stage turns these into tickets; later
 * issues add site-unreachable, flapping, degradations.
 */
export type Detection =
  | { kind: 'device-down'; device: Device; at: Date; reason: string }
  | { kind: 'device-up'; device: Device; at: Date }
  | FaultRaised
  | FaultCleared;

/**
 * A fault of broker/detect/ that needs a ticket now (held, suppressed and maintenance
 * faults are not emitted until they need one). `condition` names the rule that maps it
 * to a priority: "device-down:camera", "site-unreachable", "flapping", "degraded:clock-drift".
 */
export interface FaultRaised {
  kind: 'fault';
  siteId: string;
  deviceId: string | null;
  fault: string;
  condition: string;
  title: string;
  text: string;
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
  text: string;
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

export interface Stage {
  /** Appears in logs and counters: "validate", "store-metrics", ... */
  readonly name: string;
  run(ctx: PipelineContext): StageResult | Promise<StageResult>;
}
