/**
 * dedupe: drops a message the broker already took, by the agent's sequence number.
 * Duplicates are normal with QoS 1 ("at least once", MQTT 3.1.1 section 4.3.2): an agent
 * re-sends what it published without seeing the PUBACK (a dropped link, a broker killed
 * between its journal write and the PUBACK), and after a crash the journal replays what
 * was not finished while the agent re-sends it too.
 *
 * Per agent: the run it is in (the `startedAt` of its birth message; a new run starts
 * seq at 0 again), the highest seq seen and the seqs seen within `window` below it. A
 * seq far below the highest with no new birth seen (the birth was before a broker
 * restart) is taken as a new run: when unsure, a duplicate is let through (InfluxDB
 * overwrites a point of the same series and time) rather than a reading dropped.
 */
import type { Stage } from '../pipeline/types.js';

interface AgentRun {
  startedAt: string | null;
  highest: number;
  seen: Set<number>;
}

export interface DedupeOptions {
  /**
   * Seqs remembered below the highest; default 1024: an agent re-sends what it had in
   * flight, far fewer, and thousands of agents each keep up to twice this many.
   */
  window?: number;
  /** Told of each duplicate dropped: counted by the broker's health. */
  onDuplicate?: (agent: string) => void;
}

export function dedupeStage(options: DedupeOptions = {}): Stage & { readonly agents: number } {
  const window = options.window ?? 1024;
  const runs = new Map<string, AgentRun>();
  return {
    name: 'dedupe',
    get agents() {
      return runs.size;
    },
    run(ctx) {
      const message = ctx.message;
      if (!message) return 'continue';
      const payload = message.payload;
      // The last will is fixed at CONNECT and carries no seq: nothing to compare.
      if (!('seq' in payload)) return 'continue';
      const key = `${payload.siteId}/${payload.agentId}`;
      let run = runs.get(key);
      const startedAt =
        message.kind === 'agentStatus' && 'startedAt' in message.payload
          ? message.payload.startedAt
          : null;
      const newRun =
        !run ||
        // A birth of another run, or the first birth since this broker started: seqs
        // from here are of that run (a birth of the same run only resets the memory).
        (startedAt !== null && startedAt !== run.startedAt) ||
        payload.seq < run.highest - window;
      if (newRun || !run) {
        run = { startedAt, highest: -1, seen: new Set() };
        runs.set(key, run);
      }
      if (run.seen.has(payload.seq)) {
        options.onDuplicate?.(key);
        return 'stop';
      }
      run.seen.add(payload.seq);
      if (payload.seq > run.highest) run.highest = payload.seq;
      if (run.seen.size > 2 * window) {
        for (const seq of run.seen) if (seq < run.highest - window) run.seen.delete(seq);
      }
      return 'continue';
    },
  };
}
