/**
 * The detector: turns what the agents report into faults that need a ticket, without
 * storms. It keeps the state (the table of active conditions, agent liveness, failure
 * times) and runs the rules of ./rules/index.ts, in their order, on every input and on
 * every clock beat; the rules hold the logic, one per file.
 *
 * It decides; it does not open tickets. What it decided waits in an outbox that the
 * pipeline's detect stage takes (`take()`) into the message's context, and the ticket
 * stage applies it: the same path for a message and for the clock (broker/pipeline/).
 * When a hold that starts now ends, it asks for a clock beat (`wake`) instead of waiting
 * for the next one.
 */
import type { Device } from '../../shared/api/devices.js';
import type { AgentHealth } from '../../shared/messages/agent-health.js';
import type { DeviceMetrics } from '../../shared/messages/device-metrics.js';
import type { Message } from '../../shared/wording/messages.js';
import type { DeviceRegistry } from '../devices/registry.js';
import type { Detection } from '../pipeline/types.js';
import { AgentTable } from './agent-table.js';
import { ConditionTable, type Condition } from './conditions.js';
import { defaultDetectConfig, type DetectConfig } from './config.js';
import { FailureLog } from './failure-log.js';
import {
  detectRules,
  type DetectContext,
  type DetectRule,
  type SiteDecision,
} from './rules/index.js';
import type { DetectStateStore } from './state-store.js';

export interface DetectorOptions {
  registry: DeviceRegistry;
  config?: Partial<DetectConfig>;
  /** True while a maintenance window covers the device (deviceId null: the whole site). */
  underMaintenance?: (siteId: string, deviceId: string | null, at: Date) => boolean;
  /** The cameras an NVR records, from the site metadata. */
  recordedBy?: (siteId: string, nvrId: string) => string[];
  /** Days of recordings the site's NVRs must keep (site metadata); none: no goal to judge. */
  retentionGoalDays?: (siteId: string) => number;
  now?: () => Date;
  /** Asks for a clock beat through the pipeline (a hold is over). */
  wake?: () => void;
  /** Where the state goes so it survives a restart (./state-store.ts); none: memory only. */
  state?: DetectStateStore;
  /** A state save that failed (the detection goes on from memory; the save is retried). */
  onStateError?: (error: unknown) => void;
  /** The first wait before a failed save is tried again (doubling up to 30 s); 1 s. */
  retryMs?: number;
}

export class Detector {
  readonly config: DetectConfig;
  private readonly conditions = new ConditionTable();
  private readonly agents = new AgentTable();
  private readonly failures: FailureLog;
  private readonly rules: readonly DetectRule[] = detectRules();
  private readonly context: DetectContext;
  private outbox: Detection[] = [];
  private started = false;
  /** The save loop while it runs (./state-store.ts), and whether the state changed since its last snapshot. */
  private saving: Promise<void> | null = null;
  private dirty = false;
  /** Resolved once a save that includes what was decided before they asked commits. */
  private saveWaiters: (() => void)[] = [];
  /** Bumped by reload() and stop(): a save loop of an older generation gives up. */
  private generation = 0;
  /** Ends the pause of a save loop waiting to try again. */
  private wakeSaver: (() => void) | null = null;
  /** One-shot wake-ups at the end of holds, so a ticket does not wait for the next tick. */
  private readonly wakeups = new Set<NodeJS.Timeout>();
  private readonly now: () => Date;

  constructor(private readonly opts: DetectorOptions) {
    this.config = { ...defaultDetectConfig, ...opts.config };
    this.failures = new FailureLog(this.config.flapWindowMin * 60_000);
    this.now = opts.now ?? (() => new Date());
    this.context = {
      config: this.config,
      conditions: this.conditions,
      agents: this.agents,
      failures: this.failures,
      registry: opts.registry,
      now: () => this.now().getTime(),
      underMaintenance: (siteId, deviceId, at) =>
        opts.underMaintenance?.(siteId, deviceId, new Date(at)) ?? false,
      recordedBy: (siteId, nvrId) => opts.recordedBy?.(siteId, nvrId) ?? [],
      retentionGoalDays: (siteId) => opts.retentionGoalDays?.(siteId) ?? 0,
      open: (condition) => this.open(condition),
      clear: (condition, why) => this.clear(condition, why),
      emit: (detection) => this.outbox.push(detection),
      wakeAfterHold: () => this.wakeAfterHold(),
    };
  }

  /** Loads what the previous run left. No timer of its own: the broker's clock drives tick(). */
  async start(): Promise<void> {
    if (this.opts.state) {
      await this.opts.state.start();
      await this.reload();
    }
    this.started = true;
  }

  /**
   * Replaces the state in memory with what the store holds: at start, and on a pair when
   * this node takes over as leader (the other node decided meanwhile; docs/HA.md). Saves
   * not yet written are dropped: on a node that lost the lead they would be refused, and
   * the new leader replays their messages from the journal.
   */
  async reload(): Promise<void> {
    const state = this.opts.state;
    if (!state) return;
    this.generation++;
    this.wakeSaver?.();
    this.dirty = false;
    this.saveWaiters = [];
    await this.saving?.catch(() => {});
    const snapshot = await state.load();
    this.conditions.load(snapshot.conditions);
    this.failures.load(snapshot.failures);
    this.agents.load(snapshot.agents, this.now().getTime());
  }

  /** Stops the wake-ups and writes what is not saved yet (one attempt). */
  async stop(): Promise<void> {
    this.started = false;
    for (const wakeup of this.wakeups) clearTimeout(wakeup);
    this.wakeups.clear();
    const generation = ++this.generation;
    this.wakeSaver?.();
    await this.saving?.catch(() => {});
    if (this.dirty && this.opts.state) {
      this.dirty = false;
      if (!(await this.saveOnce(generation))) return;
    }
    const waiters = this.saveWaiters;
    this.saveWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /**
   * Resolves once what was decided so far is in the store; null when nothing waits to be
   * written. The detect stage hands it to the journal (ctx.pending): a message is
   * finished only once the state it changed is saved, so a crash replays it.
   */
  saved(): Promise<void> | null {
    if (!this.dirty && this.saving === null) return null;
    return new Promise((resolve) => this.saveWaiters.push(resolve));
  }

  /** What was decided since the last call, in the order decided (parents first). */
  take(): Detection[] {
    if (this.outbox.length === 0) return [];
    const taken = this.outbox;
    this.outbox = [];
    return taken;
  }

  // ---- inputs -------------------------------------------------------------------

  /**
   * A device's state message (after track-state stored it, with its status and inventory
   * history: broker/devices/store.ts).
   */
  deviceChanged(previous: Device | undefined, device: Device): void {
    this.agentSeen(device.siteId, device.agentId);
    for (const rule of this.rules) rule.deviceChanged?.(this.context, previous, device);
    this.evaluate(device.siteId);
  }

  /** Any message from an agent. */
  agentSeen(siteId: string, agentId: string): void {
    const cameBack = this.agents.seen(siteId, agentId, this.now().getTime());
    if (!cameBack) return;
    for (const rule of this.rules) rule.agentBack?.(this.context, siteId, agentId);
    // Decided at once, on the states the registry has: a device the agent republishes
    // as up a moment later resolves what opened (as before the rules were split; a short
    // hold here would spare that ticket, and is left for the issue that tunes holds).
    this.evaluate(siteId);
  }

  /** The agent's last will (`connection-lost`) or its shutdown message (`shutdown`). */
  agentOffline(siteId: string, agentId: string, reason: string): void {
    this.agents.offline(siteId, agentId, this.now().getTime(), { reason });
    for (const rule of this.rules) rule.agentOffline?.(this.context, siteId, agentId);
    this.evaluate(siteId);
  }

  agentHealth(health: AgentHealth): void {
    this.agentSeen(health.siteId, health.agentId);
    for (const rule of this.rules) rule.agentHealth?.(this.context, health);
    this.evaluate(health.siteId);
  }

  /**
   * A device's reading: a sign of life of its agent, and what rules judge from readings
   * (retention against the site's goal). The site is decided again only when a rule changed
   * a condition: readings come every poll of every device.
   */
  deviceMetrics(metrics: DeviceMetrics): void {
    this.agentSeen(metrics.siteId, metrics.agentId);
    let changed = false;
    for (const rule of this.rules) {
      if (rule.deviceMetrics?.(this.context, metrics)) changed = true;
    }
    if (changed) this.evaluate(metrics.siteId);
  }

  /**
   * A clock beat: what time decides. An agent silent past the heartbeat timeout is gone
   * as if its will had come (every rule's agentOffline hears it); then each rule's own
   * time (flapping that calmed down); then every site is decided (holds that are over).
   */
  tick(): void {
    const now = this.now().getTime();
    const timeoutS = this.config.heartbeatTimeoutS;
    for (const agent of this.agents.silent(now, timeoutS * 1000)) {
      this.agents.offline(agent.siteId, agent.agentId, now, { silentS: timeoutS });
      for (const rule of this.rules) rule.agentOffline?.(this.context, agent.siteId, agent.agentId);
    }
    for (const rule of this.rules) rule.tick?.(this.context);
    this.evaluate();
  }

  // ---- the decision -------------------------------------------------------------

  /**
   * Decides, site by site, which conditions need a ticket now: the site an input
   * concerns, or every site with a condition on a clock beat (holds end with time).
   */
  private evaluate(only?: string): void {
    const now = this.now().getTime();
    const sites = only !== undefined ? [only] : new Set(this.conditions.all().map((c) => c.siteId));
    for (const siteId of sites) {
      const heldBy = new Map<Condition, string>();
      const site: SiteDecision = {
        siteId,
        now,
        conditions: this.conditions.ofSite(siteId),
        hold: (condition, rule) => {
          if (!heldBy.has(condition)) heldBy.set(condition, rule);
        },
        heldBy: (condition) => heldBy.get(condition),
      };
      for (const rule of this.rules) rule.decide?.(this.context, site);
    }
    this.persist();
  }

  private open(condition: Condition): void {
    condition.ticketed = true;
    this.outbox.push({
      kind: 'fault',
      siteId: condition.siteId,
      deviceId: condition.deviceId,
      fault: condition.fault,
      condition: condition.condition,
      title: condition.title,
      text: condition.text,
      covers: condition.covers,
      at: new Date(condition.since),
    });
  }

  private clear(condition: Condition, why: Message): void {
    this.conditions.clear(condition.siteId, condition.deviceId, condition.fault);
    if (!condition.ticketed) return;
    this.outbox.push({
      kind: 'fault-cleared',
      siteId: condition.siteId,
      deviceId: condition.deviceId,
      fault: condition.fault,
      text: why,
      at: this.now(),
    });
  }

  /** Asks for a clock beat once the hold of a new condition is over (only while started). */
  private wakeAfterHold(): void {
    if (!this.started || this.opts.wake === undefined) return;
    const wake = this.opts.wake;
    const wakeup = setTimeout(
      () => {
        this.wakeups.delete(wakeup);
        wake();
      },
      this.config.holdS * 1000 + 5,
    );
    wakeup.unref();
    this.wakeups.add(wakeup);
  }

  // ---- persistence ----------------------------------------------------------------

  /**
   * Saves what changed to the state store. The agents' last-seen times are left out: they
   * change with every message, and a restart starts their heartbeat timeout afresh anyway.
   */
  private persist(): void {
    if (!this.opts.state) return;
    this.dirty = true;
    if (this.saving === null) {
      this.saving = this.saveLoop(this.generation).finally(() => (this.saving = null));
    }
  }

  /**
   * Saves while there is something to save, one save at a time. Once per turn of the
   * event loop: every save compares the whole state, so a burst of inputs (hundreds of
   * agents reconnecting after the NOC's WAN came back) saved one by one cost O(n^2) and
   * stalled the broker (50 ms at 500 agents in bench:broker). A failed save is said and
   * tried again, waiting longer each time (the disk full, PostgreSQL out of reach): the
   * detection goes on from memory, and the messages wait in the journal meanwhile.
   */
  private async saveLoop(generation: number): Promise<void> {
    let failures = 0;
    while (this.dirty && generation === this.generation) {
      await new Promise((resolve) => setImmediate(resolve));
      if (generation !== this.generation) return;
      this.dirty = false;
      if (await this.saveOnce(generation)) {
        failures = 0;
        continue;
      }
      this.dirty = true;
      const waitMs = Math.min(30_000, (this.opts.retryMs ?? 1000) * 2 ** failures++);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        timer.unref();
        // stop() and reload() do not wait out the pause.
        this.wakeSaver = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeSaver = null;
    }
    // Nothing changed since the last save that committed: every waiter is covered.
    if (generation !== this.generation) return;
    const waiters = this.saveWaiters;
    this.saveWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** One save of the state as it is now; true when it committed. */
  private async saveOnce(generation: number): Promise<boolean> {
    const state = this.opts.state;
    if (!state) return true;
    this.failures.prune(this.now().getTime());
    const waiters = this.saveWaiters;
    this.saveWaiters = [];
    // Only the agents whose liveness changed: every agent each time was O(agents) of work
    // per input (agent-table.ts). Conditions and failure times stay whole snapshots: they
    // follow the faults, not the size of the fleet.
    const agents = this.agents.takeChanged();
    try {
      await state.save({
        conditions: this.conditions.all(),
        failures: this.failures.entries(),
        agents,
      });
    } catch (error) {
      if (generation === this.generation) {
        this.saveWaiters.unshift(...waiters);
        this.agents.changedAgain(agents);
      }
      this.opts.onStateError?.(error);
      return false;
    }
    for (const resolve of waiters) resolve();
    return true;
  }
}
