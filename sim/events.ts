/**
 * The events a device raises and the pull points clients read them from (ONVIF Core
 * section 9: real-time pull-point notification interface). A pull point keeps its own
 * queue; PullMessages waits (long poll) until a message arrives or its Timeout passes.
 */
import { randomBytes } from 'node:crypto';

/** ONVIF Core 9.2.2: a property event says whether it reports, changes or ends a state. */
export type PropertyOperation = 'Initialized' | 'Changed' | 'Deleted';

export interface EventMessage {
  /** Topic with the tns1 prefix, e.g. tns1:VideoSource/SignalLoss. */
  topic: string;
  /** Device clock, ms since the epoch. */
  utcTime: number;
  operation: PropertyOperation;
  source: [string, string][];
  data: [string, string][];
}

export interface TopicDescription {
  topic: string;
  source: [string, string][];
  data: [string, string][];
}

/** The topics every simulated device announces in GetEventProperties. */
export const TOPICS = {
  signalLoss: {
    topic: 'tns1:VideoSource/SignalLoss',
    source: [['VideoSource', 'tt:ReferenceToken']],
    data: [['State', 'xsd:boolean']],
  },
  tamper: {
    topic: 'tns1:RuleEngine/TamperDetector/Tamper',
    source: [
      ['VideoSourceConfigurationToken', 'tt:ReferenceToken'],
      ['VideoAnalyticsConfigurationToken', 'tt:ReferenceToken'],
      ['Rule', 'xsd:string'],
    ],
    data: [['IsTamper', 'xsd:boolean']],
  },
  sceneChange: {
    topic: 'tns1:VideoSource/GlobalSceneChange/ImagingService',
    source: [['Source', 'tt:ReferenceToken']],
    data: [['State', 'xsd:boolean']],
  },
  storageFailure: {
    topic: 'tns1:Device/HardwareFailure/StorageFailure',
    source: [['Token', 'tt:ReferenceToken']],
    data: [['Failed', 'xsd:boolean']],
  },
  jobState: {
    topic: 'tns1:RecordingConfig/JobState',
    source: [['RecordingJobToken', 'tt:RecordingJobReference']],
    data: [['State', 'xsd:string']],
  },
  lastReboot: {
    topic: 'tns1:Monitoring/OperatingTime/LastReboot',
    source: [],
    data: [['Status', 'xsd:dateTime']],
  },
} as const satisfies Record<string, TopicDescription>;

export interface PullPoint {
  id: string;
  /** Wall clock ms after which the subscription is gone. */
  terminationTime: number;
  /** How long InitialTerminationTime asked for; PullMessages keeps the point alive that long. */
  keepAliveMs: number;
  queue: EventMessage[];
  wake: (() => void) | null;
}

/** Real devices hold a handful of pull points; more get a fault. */
export const MAX_PULL_POINTS = 32;
/** A queue that nobody reads stops growing here; the oldest messages go. */
const MAX_QUEUE = 1000;

export class TooManyPullPointsError extends Error {}

export class EventHub {
  private readonly points = new Map<string, PullPoint>();

  create(keepAliveMs: number, initial: EventMessage[], now = Date.now()): PullPoint {
    this.sweep(now);
    if (this.points.size >= MAX_PULL_POINTS) {
      throw new TooManyPullPointsError(`at most ${MAX_PULL_POINTS} pull points at once`);
    }
    const point: PullPoint = {
      id: randomBytes(8).toString('hex'),
      terminationTime: now + keepAliveMs,
      keepAliveMs,
      queue: [...initial],
      wake: null,
    };
    this.points.set(point.id, point);
    return point;
  }

  get(id: string, now = Date.now()): PullPoint | undefined {
    this.sweep(now);
    return this.points.get(id);
  }

  get size(): number {
    return this.points.size;
  }

  publish(message: EventMessage): void {
    this.sweep(Date.now());
    for (const point of this.points.values()) {
      point.queue.push(message);
      if (point.queue.length > MAX_QUEUE) point.queue.shift();
      point.wake?.();
    }
  }

  /**
   * Up to `limit` messages; waits up to `timeoutMs` for the first one (ONVIF Core 9.1.2
   * PullMessages: the device answers as soon as messages are there or the timeout passes).
   */
  async pull(point: PullPoint, limit: number, timeoutMs: number): Promise<EventMessage[]> {
    point.terminationTime = Math.max(point.terminationTime, Date.now() + point.keepAliveMs);
    if (point.queue.length === 0 && timeoutMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, timeoutMs);
        function done() {
          clearTimeout(timer);
          point.wake = null;
          resolve();
        }
        point.wake?.();
        point.wake = done;
      });
    }
    return point.queue.splice(0, Math.max(1, limit));
  }

  remove(id: string): boolean {
    const point = this.points.get(id);
    point?.wake?.();
    return this.points.delete(id);
  }

  /** A reboot or a stop forgets every pull point; waiting pulls answer at once. */
  clear(): void {
    for (const point of this.points.values()) point.wake?.();
    this.points.clear();
  }

  private sweep(now: number): void {
    for (const [id, point] of this.points) {
      if (point.terminationTime <= now) {
        point.wake?.();
        this.points.delete(id);
      }
    }
  }
}

/** xs:duration as ONVIF uses it (PT10S, PT1M30S, PT0.5S, P1D); null if not one. */
export function parseDuration(text: string): number | null {
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text.trim());
  if (!match || text.trim() === 'P' || text.trim() === 'PT') return null;
  const [, d, h, m, s] = match;
  return (
    ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(m ?? 0)) * 60_000 + Number(s ?? 0) * 1000
  );
}
