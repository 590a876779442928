/**
 * The broker's figures, sampled every second for rates, served by GET /api/broker and
 * published retained under $SYS/vigil/broker/... every `publishIntervalMs` (MQTT 3.1.1
 * section 4.7.2: topics starting with $ are the server's; clients cannot publish there,
 * and an agent cannot subscribe there either, see topic-rights.ts). Console and internal
 * tools read them with their own accounts.
 */
import type { BrokerStats } from '../../shared/api/broker.js';

export const SYS_PREFIX = '$SYS/vigil/broker';

export interface FigureSources {
  collect(): Omit<BrokerStats, 'at' | 'mqtt'> & {
    mqtt: Omit<BrokerStats['mqtt'], 'messagesInPerS' | 'messagesOutPerS'>;
  };
  publish(topic: string, payload: string): void;
}

/** The figures as topic -> value, flat: $SYS/vigil/broker/journal/depth = "1830". */
export function sysTopics(stats: BrokerStats): [string, string][] {
  const out: [string, string][] = [];
  const walk = (prefix: string, value: unknown): void => {
    if (value !== null && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) walk(`${prefix}/${key}`, inner);
    } else {
      out.push([prefix, value === null ? '' : String(value)]);
    }
  };
  walk(SYS_PREFIX, stats);
  return out;
}

export class BrokerFigures {
  private sampleTimer: NodeJS.Timeout | null = null;
  private publishTimer: NodeJS.Timeout | null = null;
  private last = { at: Date.now(), in: 0, out: 0 };
  private rates = { in: 0, out: 0 };

  constructor(
    private readonly sources: FigureSources,
    private readonly options: { sampleIntervalMs?: number; publishIntervalMs?: number } = {},
  ) {}

  start(): void {
    this.sampleTimer = setInterval(() => this.sample(), this.options.sampleIntervalMs ?? 1000);
    this.sampleTimer.unref();
    this.publishTimer = setInterval(() => this.publish(), this.options.publishIntervalMs ?? 10_000);
    this.publishTimer.unref();
  }

  stop(): void {
    if (this.sampleTimer) clearInterval(this.sampleTimer);
    if (this.publishTimer) clearInterval(this.publishTimer);
    this.sampleTimer = null;
    this.publishTimer = null;
  }

  current(): BrokerStats {
    const collected = this.sources.collect();
    return {
      at: new Date().toISOString(),
      ...collected,
      mqtt: {
        ...collected.mqtt,
        messagesInPerS: this.rates.in,
        messagesOutPerS: this.rates.out,
      },
    };
  }

  publish(): void {
    for (const [topic, value] of sysTopics(this.current())) this.sources.publish(topic, value);
  }

  private sample(): void {
    const { mqtt } = this.sources.collect();
    const now = Date.now();
    const seconds = Math.max((now - this.last.at) / 1000, 0.001);
    this.rates = {
      in: Math.round(((mqtt.messagesIn - this.last.in) / seconds) * 10) / 10,
      out: Math.round(((mqtt.messagesOut - this.last.out) / seconds) * 10) / 10,
    };
    this.last = { at: now, in: mqtt.messagesIn, out: mqtt.messagesOut };
  }
}
