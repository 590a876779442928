/**
 * The detector: turns what the agents report into faults that need a ticket, without
 * storms. It keeps a table of active conditions (./conditions.ts) filled by the rules
 * (one per file in this folder) and decides on every change and every tick which of
 * them need a ticket now:
 *
 *   - a device failure opens at once; only once a site's recent camera failures are
 *     80 % of the way to a site outage does a new one wait `holdS` (the event is seen whole
 *     first), and the tickets opened before fold into the site ticket when it shows;
 *   - nothing opens for what a maintenance window covers (it opens after the window
 *     if the fault is still there);
 *   - an agent offline suppresses its devices: one site ticket covers them;
 *   - a site outage (many cameras at once) suppresses the cameras it lists;
 *   - an NVR down covers the cameras it records (site metadata `recorderId`);
 *   - a flapping device's failures go to its one "frequent failures" ticket.
 *
 * A suppressed device gets its own ticket when the parent recovers and it is still down.
 * Detections go to `sink` (the ticket service) in the order parents first.
 */
import type { Device } from '../../shared/api/devices.js';
import type { AgentHealth } from '../../shared/messages/agent-health.js';
import type { DeviceRegistry } from '../devices/registry.js';
import type { StatusHistory } from '../inspection/history.js';
import type { Detection } from '../pipeline/types.js';
import {
  RESOLVED_DEVICE_UP,
  deviceDownText,
  deviceDownTitle,
  downReason,
} from '../tickets/wording.js';
import { AgentTable, siteUnreachableText } from './agent-liveness.js';
import { ConditionTable, type Condition } from './conditions.js';
import { defaultDetectConfig, type DetectConfig } from './config.js';
import { degradationCodes, degradationLabel, degradationText } from './degradation.js';
import { FailureLog, flappingText } from './flapping.js';
import { gatewayProblems } from './gateway.js';
import { assessMassOutage, massOutageText } from './mass-outage.js';
import type { DetectStateStore } from './state-store.js';

export interface DetectorOptions {
  registry: DeviceRegistry;
  /** Where faults that need a ticket go (the ticket service's apply). */
  sink: (detection: Detection) => void;
  config?: Partial<DetectConfig>;
  /** True while a maintenance window covers the device (deviceId null: the whole site). */
  underMaintenance?: (siteId: string, deviceId: string | null, at: Date) => boolean;
  /** The cameras an NVR records, from the site metadata. */
  recordedBy?: (siteId: string, nvrId: string) => string[];
  /** Status and inventory history for the inspection report. */
  history?: StatusHistory;
  now?: () => Date;
  /** Also run on each tick (the SLA clocks). */
  onTick?: () => void;
  /** Where the state goes so it survives a restart (./state-store.ts); none: memory only. */
  state?: DetectStateStore;
  /** A state save that failed (the detection goes on from memory). */
  onStateError?: (error: unknown) => void;
}

const SITE_UNREACHABLE = 'site-unreachable';
const SITE_OUTAGE = 'site-outage';
const DEVICE_DOWN = 'device-down';
const FLAPPING = 'flapping';
const GATEWAY = 'degraded:gateway-resources';

export class Detector {
  readonly config: DetectConfig;
  private readonly conditions = new ConditionTable();
  private readonly agents = new AgentTable();
  private readonly failures: FailureLog;
  private timer: NodeJS.Timeout | null = null;
  private persistScheduled: NodeJS.Immediate | null = null;
  /** One-shot wake-ups at the end of holds, so a ticket does not wait for the next tick. */
  private readonly wakeups = new Set<NodeJS.Timeout>();
  private readonly now: () => Date;
  /** Per agent, health messages in a row with the CPU load over the threshold. */
  private readonly cpuHighReports = new Map<string, number>();

  constructor(private readonly opts: DetectorOptions) {
    this.config = { ...defaultDetectConfig, ...opts.config };
    this.failures = new FailureLog(this.config.flapWindowMin * 60_000);
    this.now = opts.now ?? (() => new Date());
  }

  start(): void {
    const state = this.opts.state?.start();
    if (state) {
      this.conditions.load(state.conditions);
      this.failures.load(state.failures);
      this.agents.load(state.agents, this.now().getTime());
    }
    this.timer = setInterval(() => this.tick(), this.config.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.persistScheduled) {
      clearImmediate(this.persistScheduled);
      this.persistScheduled = null;
      this.persistNow();
    }
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const wakeup of this.wakeups) clearTimeout(wakeup);
    this.wakeups.clear();
  }

  /** Evaluates again once the hold of a new condition is over (only while started). */
  private wakeAfterHold(): void {
    if (this.timer === null) return;
    const wakeup = setTimeout(
      () => {
        this.wakeups.delete(wakeup);
        this.evaluate();
      },
      this.config.holdS * 1000 + 5,
    );
    wakeup.unref();
    this.wakeups.add(wakeup);
  }

  /**
   * Saves what changed to the state store. The agents' last-seen times are left out: they
   * change with every message, and a restart starts their heartbeat timeout afresh anyway.
   */
  private persist(): void {
    if (!this.opts.state || this.persistScheduled) return;
    // Once per turn of the event loop: every save compares the whole state, so a burst of
    // inputs (hundreds of agents reconnecting after the NOC's WAN came back) saved one by
    // one cost O(n^2) and stalled the broker (50 ms at 500 agents in bench:broker). The
    // journal finishes a message only after its metrics are written, a later turn, so a
    // crash still cannot lose a change whose message will not be replayed.
    this.persistScheduled = setImmediate(() => {
      this.persistScheduled = null;
      this.persistNow();
    });
  }

  private persistNow(): void {
    if (!this.opts.state) return;
    this.failures.prune(this.now().getTime());
    try {
      this.opts.state.save({
        conditions: this.conditions.all(),
        failures: this.failures.entries(),
        agents: this.agents.all().map((a) => ({ ...a, lastSeen: 0 })),
      });
    } catch (error) {
      this.opts.onStateError?.(error);
    }
  }

  private emit(detection: Detection): void {
    this.opts.sink(detection);
  }

  private maintenance(siteId: string, deviceId: string | null, at: number): boolean {
    return this.opts.underMaintenance?.(siteId, deviceId, new Date(at)) ?? false;
  }

  // ---- inputs -------------------------------------------------------------------

  /** A device's state message (after track-state stored it). */
  deviceChanged(previous: Device | undefined, device: Device): void {
    const now = this.now().getTime();
    this.agentSeen(device.siteId, device.agentId);
    if (previous?.status !== device.status) {
      this.opts.history?.record(
        device.siteId,
        device.id,
        device.status,
        new Date(device.since ?? now),
      );
    }
    this.inventory(previous, device);

    if (device.status === 'down' && previous?.status !== 'down') this.deviceDown(device, now);
    else if (
      previous?.status === 'down' &&
      (device.status === 'up' || device.status === 'degraded')
    ) {
      this.deviceUp(device);
    }
    this.degradations(previous, device, now);
    this.evaluate();
  }

  /** Any message from an agent. */
  agentSeen(siteId: string, agentId: string): void {
    const cameBack = this.agents.seen(siteId, agentId, this.now().getTime());
    if (cameBack) {
      this.agentBack(siteId);
      this.persist();
    }
  }

  /** The agent's birth (online) or will / shutdown (offline) message. */
  agentStatus(siteId: string, agentId: string, online: boolean, reason = 'connection lost'): void {
    if (online) {
      this.agentSeen(siteId, agentId);
      return;
    }
    const now = this.now().getTime();
    this.agents.offline(siteId, agentId, now, reason);
    this.siteUnreachable(siteId, agentId, now);
    this.evaluate();
  }

  agentHealth(health: AgentHealth): void {
    this.agentSeen(health.siteId, health.agentId);
    const agentKey = `${health.siteId}|${health.agentId}`;
    const cpuHigh =
      health.gateway.cpuLoadPct >= this.config.gatewayCpuPct
        ? (this.cpuHighReports.get(agentKey) ?? 0) + 1
        : 0;
    this.cpuHighReports.set(agentKey, cpuHigh);
    const problems = gatewayProblems(health, this.config, cpuHigh);
    const existing = this.conditions.get(health.siteId, null, GATEWAY);
    if (problems.length > 0 && !existing) {
      const now = this.now().getTime();
      this.conditions.raise({
        siteId: health.siteId,
        deviceId: null,
        agentId: health.agentId,
        kind: null,
        fault: GATEWAY,
        condition: GATEWAY,
        title: `Site gateway ${health.agentId} is low on resources: ${problems.join(', ')}`,
        text: `Gateway resources low: ${problems.join(', ')}`,
        since: now,
        heldUntil: now,
        ticketed: false,
        covers: [],
      });
      this.evaluate();
    } else if (problems.length === 0 && existing) {
      this.clear(existing, 'Resolved automatically: the gateway has resources again');
      this.persist();
    }
  }

  // ---- rules --------------------------------------------------------------------

  private inventory(previous: Device | undefined, device: Device): void {
    const history = this.opts.history;
    if (!history || !previous?.identity || !device.identity) return;
    const at = this.now().toISOString();
    if (previous.identity.serialNumber !== device.identity.serialNumber) {
      history.recordInventory(device.siteId, {
        deviceId: device.id,
        at,
        kind: 'replaced',
        from: previous.identity.serialNumber,
        to: device.identity.serialNumber,
      });
    } else if (previous.identity.firmwareVersion !== device.identity.firmwareVersion) {
      history.recordInventory(device.siteId, {
        deviceId: device.id,
        at,
        kind: 'firmware',
        from: previous.identity.firmwareVersion,
        to: device.identity.firmwareVersion,
      });
    }
  }

  private deviceDown(device: Device, now: number): void {
    const reason =
      device.reasons.map((r) => r.message || r.code).join('; ') || 'no reason reported';
    const hold = device.kind === 'camera' ? this.holdFor(device, now) : 0;
    this.conditions.raise({
      siteId: device.siteId,
      deviceId: device.id,
      agentId: device.agentId,
      kind: device.kind,
      fault: DEVICE_DOWN,
      condition: `${DEVICE_DOWN}:${device.kind}`,
      title: deviceDownTitle(device, downReason(device, reason)),
      text: deviceDownText(device, reason),
      since: now,
      heldUntil: now + hold,
      ticketed: false,
      covers: [],
    });
    if (hold > 0) {
      // While the event grows, the cameras held before wait with the newest one (up to
      // the mass window): it is seen whole before any of them gets a ticket.
      for (const held of this.conditions.ofSite(device.siteId)) {
        if (held.fault !== DEVICE_DOWN || held.ticketed || held.heldUntil <= held.since) continue;
        held.heldUntil = Math.min(now + hold, held.since + this.config.massWindowS * 1000);
      }
      this.wakeAfterHold();
    }
    if (this.maintenance(device.siteId, device.id, now)) return;
    const key = `${device.siteId}|${device.id}`;
    const count = this.failures.add(key, now);
    if (
      count >= this.config.flapFailures &&
      !this.conditions.has(device.siteId, device.id, FLAPPING)
    ) {
      this.conditions.raise({
        siteId: device.siteId,
        deviceId: device.id,
        agentId: device.agentId,
        kind: device.kind,
        fault: FLAPPING,
        condition: FLAPPING,
        title: `${device.kind === 'nvr' ? 'NVR' : 'Camera'} "${device.name}" (${device.id}) fails again and again`,
        text: flappingText(count, this.config.flapWindowMin),
        since: now,
        heldUntil: now,
        ticketed: false,
        covers: [],
      });
    }
  }

  /**
   * How long a camera's new failure waits (ms). A failure opens at once unless the site's
   * recent camera failures are already 80 % (`holdFromShare`) of the way to a site outage: only
   * then is a site-wide event likely enough to be worth the hold, so the event is seen
   * whole. The tickets opened before are folded into the site ticket if it comes to that
   * (evaluateSite), so a site-wide event still ends as one open ticket.
   */
  private holdFor(device: Device, now: number): number {
    const windowMs = this.config.massWindowS * 1000;
    const recent =
      1 +
      this.conditions
        .ofSite(device.siteId)
        .filter(
          (c) =>
            c.fault === DEVICE_DOWN &&
            c.kind === 'camera' &&
            c.deviceId !== device.id &&
            now - c.since <= windowMs,
        ).length;
    if (recent < 2) return 0;
    const cameras = this.opts.registry
      .list({ siteId: device.siteId })
      .filter((d) => d.kind === 'camera').length;
    const threshold = Math.max(
      this.config.massMinDevices,
      Math.ceil(this.config.massShare * cameras),
    );
    return recent >= this.config.holdFromShare * threshold ? this.config.holdS * 1000 : 0;
  }

  private deviceUp(device: Device): void {
    const condition = this.conditions.clear(device.siteId, device.id, DEVICE_DOWN);
    // Resolve whatever is open, also a ticket opened before a broker restart.
    if (condition?.ticketed !== false) this.emit({ kind: 'device-up', device, at: this.now() });
  }

  private degradations(previous: Device | undefined, device: Device, now: number): void {
    const codes = degradationCodes(device);
    if (device.status === 'down' || device.status === 'unknown') return;
    // Codes gone since the previous state without a condition here (opened before a
    // broker restart): resolve their tickets all the same.
    for (const code of previous ? degradationCodes(previous) : []) {
      const fault = `degraded:${code}`;
      if (codes.has(code) || this.conditions.has(device.siteId, device.id, fault)) continue;
      this.emit({
        kind: 'fault-cleared',
        siteId: device.siteId,
        deviceId: device.id,
        fault,
        text: 'Resolved automatically: the device no longer reports it',
        at: this.now(),
      });
    }
    for (const code of codes) {
      const fault = `degraded:${code}`;
      if (this.conditions.has(device.siteId, device.id, fault)) continue;
      this.conditions.raise({
        siteId: device.siteId,
        deviceId: device.id,
        agentId: device.agentId,
        kind: device.kind,
        fault,
        condition: fault,
        title: `${device.kind === 'nvr' ? 'NVR' : 'Camera'} "${device.name}" (${device.id}): ${degradationLabel[code] ?? code}`,
        text: degradationText(device, code),
        since: now,
        heldUntil: now,
        ticketed: false,
        covers: [],
      });
    }
    for (const condition of this.conditions.ofSite(device.siteId)) {
      if (condition.deviceId !== device.id || !condition.fault.startsWith('degraded:')) continue;
      if (!codes.has(condition.fault.slice('degraded:'.length))) {
        this.clear(condition, 'Resolved automatically: the device no longer reports it');
      }
    }
  }

  private siteUnreachable(siteId: string, agentId: string, now: number): void {
    const agent = this.agents.get(siteId, agentId);
    if (!agent) return;
    const devices = this.opts.registry.list({ siteId }).filter((d) => d.agentId === agentId);
    this.conditions.raise({
      siteId,
      deviceId: null,
      agentId,
      kind: null,
      fault: SITE_UNREACHABLE,
      condition: SITE_UNREACHABLE,
      title: `Site ${siteId} is unreachable: gateway agent ${agentId} is offline`,
      text: siteUnreachableText(agent, devices.length),
      since: now,
      heldUntil: now + this.config.holdS * 1000,
      ticketed: false,
      covers: devices.map((d) => d.id).sort(),
    });
    this.wakeAfterHold();
  }

  private agentBack(siteId: string): void {
    if (this.agents.offlineOf(siteId).length > 0) return;
    const text = 'Resolved automatically: the site gateway agent is back online';
    const condition = this.conditions.get(siteId, null, SITE_UNREACHABLE);
    if (condition) {
      this.clear(condition, text);
      // The agent republishes its devices' retained states: the ones still down get
      // their own tickets through evaluate().
      this.evaluate();
    } else {
      // A site ticket opened before a broker restart has no condition here any more.
      this.emit({
        kind: 'fault-cleared',
        siteId,
        deviceId: null,
        fault: SITE_UNREACHABLE,
        text,
        at: this.now(),
      });
    }
  }

  private clear(condition: Condition, text: string): void {
    this.conditions.clear(condition.siteId, condition.deviceId, condition.fault);
    if (condition.ticketed) {
      this.emit({
        kind: 'fault-cleared',
        siteId: condition.siteId,
        deviceId: condition.deviceId,
        fault: condition.fault,
        text,
        at: this.now(),
      });
    }
  }

  private open(condition: Condition): void {
    condition.ticketed = true;
    this.emit({
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

  // ---- the decision -------------------------------------------------------------

  /** Decides which conditions need a ticket now; called on every change and tick. */
  evaluate(): void {
    const now = this.now().getTime();
    const sites = new Set(this.conditions.all().map((c) => c.siteId));
    for (const siteId of sites) this.evaluateSite(siteId, now);
    this.persist();
  }

  private evaluateSite(siteId: string, now: number): void {
    const all = this.conditions.ofSite(siteId);
    const siteDown = all.find((c) => c.fault === SITE_UNREACHABLE);
    const siteMaintenance = this.maintenance(siteId, null, now);

    // 1. The site's agent is gone: one site ticket, after the hold.
    if (siteDown && !siteDown.ticketed && !siteMaintenance && now >= siteDown.heldUntil) {
      this.open(siteDown);
    }
    const agentsOffline = new Set(this.agents.offlineOf(siteId).map((a) => a.agentId));

    // 2. Many cameras at once: one site outage ticket listing them.
    const cameras = this.opts.registry.list({ siteId }).filter((d) => d.kind === 'camera');
    const downCameras = all.filter(
      (c) =>
        c.fault === DEVICE_DOWN &&
        c.kind === 'camera' &&
        !this.maintenance(siteId, c.deviceId, now),
    );
    let outage = this.conditions.get(siteId, null, SITE_OUTAGE);
    const mass = assessMassOutage(
      downCameras,
      cameras.length,
      outage !== undefined,
      now,
      this.config,
    );
    if (mass.isOutage && !outage) {
      if (!siteMaintenance) {
        outage = this.conditions.raise({
          siteId,
          deviceId: null,
          agentId: null,
          kind: null,
          fault: SITE_OUTAGE,
          condition: SITE_OUTAGE,
          title: `Site ${siteId}: ${mass.down.length} of ${cameras.length} cameras down at once`,
          text: massOutageText(mass.down, cameras.length),
          since: now,
          heldUntil: now,
          ticketed: false,
          covers: mass.down,
        });
        this.open(outage);
        // The cameras of the event that already got their own ticket (the first ones,
        // opened before the event showed) are folded into the site ticket: one open
        // ticket for one cause. A camera still down after the event reopens its own.
        for (const camera of downCameras) {
          if (!camera.ticketed || now - camera.since > this.config.massWindowS * 1000) continue;
          camera.ticketed = false;
          this.emit({
            kind: 'fault-cleared',
            siteId,
            deviceId: camera.deviceId,
            fault: DEVICE_DOWN,
            text: `Folded into the site ticket: ${mass.down.length} cameras of ${siteId} failed at once`,
            at: new Date(now),
          });
        }
      }
    } else if (outage && !mass.isOutage) {
      this.clear(outage, `Resolved automatically: ${mass.down.length} cameras still down`);
      outage = undefined;
    } else if (outage && JSON.stringify(outage.covers) !== JSON.stringify(mass.down)) {
      outage.covers = mass.down;
      outage.text = massOutageText(mass.down, cameras.length);
      if (outage.ticketed) this.open(outage);
    }
    const inOutage = new Set(outage?.covers ?? []);

    // 3. NVRs down cover the cameras they record.
    const coveredByRecorder = new Set<string>();
    for (const nvr of all.filter((c) => c.fault === DEVICE_DOWN && c.kind === 'nvr')) {
      const recorded = this.opts.recordedBy?.(siteId, nvr.deviceId ?? '') ?? [];
      for (const id of recorded) coveredByRecorder.add(id);
      const downRecorded = recorded.filter((id) => this.conditions.has(siteId, id, DEVICE_DOWN));
      const covers = recorded.length > 0 ? recorded : [];
      if (JSON.stringify(nvr.covers) !== JSON.stringify(covers)) {
        nvr.covers = covers;
        if (downRecorded.length > 0)
          nvr.text = `${nvr.text}; also down: ${downRecorded.join(', ')}`;
        if (nvr.ticketed) this.open(nvr);
      }
    }

    // 4. Everything else: open what is not held, covered or in maintenance.
    const order = (c: Condition) => (c.deviceId === null ? 0 : c.kind === 'nvr' ? 1 : 2);
    for (const condition of all.sort((a, b) => order(a) - order(b))) {
      if (condition.ticketed || !this.conditions.has(siteId, condition.deviceId, condition.fault))
        continue;
      if (condition.fault === SITE_UNREACHABLE || condition.fault === SITE_OUTAGE) continue;
      if (now < condition.heldUntil) continue;
      if (this.maintenance(siteId, condition.deviceId, now)) continue;
      if (condition.deviceId !== null) {
        if (condition.agentId !== null && agentsOffline.has(condition.agentId)) continue;
        if (condition.fault === DEVICE_DOWN) {
          if (inOutage.has(condition.deviceId)) continue;
          if (coveredByRecorder.has(condition.deviceId)) continue;
          if (this.conditions.has(siteId, condition.deviceId, FLAPPING)) continue;
        }
      }
      this.open(condition);
    }
  }

  /** Heartbeats, flapping that calmed down, held and suppressed faults; then onTick. */
  tick(): void {
    const now = this.now().getTime();
    for (const agent of this.agents.silent(now, this.config.heartbeatTimeoutS * 1000)) {
      this.agents.offline(
        agent.siteId,
        agent.agentId,
        now,
        `no message for ${this.config.heartbeatTimeoutS} s`,
      );
      this.siteUnreachable(agent.siteId, agent.agentId, now);
    }
    for (const condition of this.conditions.all().filter((c) => c.fault === FLAPPING)) {
      const key = `${condition.siteId}|${condition.deviceId ?? ''}`;
      const last = this.failures.last(key) ?? 0;
      const stillDown = this.conditions.has(condition.siteId, condition.deviceId, DEVICE_DOWN);
      if (!stillDown && now - last >= this.config.flapWindowMin * 60_000) {
        this.clear(
          condition,
          `Resolved automatically: no failure for ${this.config.flapWindowMin} min`,
        );
      }
    }
    this.evaluate();
    this.opts.onTick?.();
  }
}

export { RESOLVED_DEVICE_UP };
