/**
 * What Vigil says by itself, as codes with parameters: ticket titles, timeline entries.
 * They are stored and sent as `{ code, params }` and turned into words only where a
 * person reads them (STYLE habit 14: words are made at the edge), by ./render.ts in
 * the reader's language. Schema-free, so the console may import it without TypeBox.
 *
 * Every code has its parameters typed here; each language's catalogue must render every
 * code (the compiler checks that), so a code never reaches a screen as a bare code.
 */

// Parameters are type aliases, not interfaces: the API's schema types a message's params
// as Record<string, unknown>, which an interface (no index signature) does not satisfy.

/** A device as a title names it. */
export type Named = {
  kind: 'camera' | 'nvr';
  name: string;
  device: string;
};

/** One degradation reason of a device, with the channel it concerns (an NVR's). */
export type ReasonLine = {
  text: string;
  channel?: string;
  /** The device that saw it, when not the device itself: a camera's NVR (Reason.witness). */
  witness?: string;
};

/**
 * A gateway resource short of its threshold, with the measured share; or the gateway too
 * hot, with its reading and the limit (degrees Celsius).
 */
export type GatewayProblem =
  | {
      what: 'memory' | 'disk' | 'cpu';
      pct: number;
    }
  | {
      what: 'temperature';
      celsius: number;
      limitC: number;
    };

/** Why a ticket's notification goes out: opened, still not acknowledged, an SLA clock. */
export type NotifyStage = 'opened' | 'unacknowledged' | 'sla-warning' | 'sla-breach';

export interface MessageParams {
  // ---- ticket titles ----------------------------------------------------------------
  /** `reason`: the first reason code the agent sent; empty when it sent none. */
  'title.device-down': Named & { reason: string };
  'title.flapping': Named;
  /** An NVR keeps recordings `days` (its shortest channel), fewer than the site's `goal`. */
  'title.retention-short': Named & { days: number; goal: number };
  /** `code`: the agent's reason code (clock-drift, recording-stopped ...). */
  'title.degraded': Named & { code: string };
  'title.site-unreachable': { site: string; agent: string };
  'title.site-outage': { site: string; down: number; cameras: number };
  'title.gateway-resources': { agent: string; problems: GatewayProblem[] };
  /** A manual ticket's title as the reporter wrote it (POST /api/tickets). */
  'title.manual': { text: string };

  // ---- what the detector found (the "detected" entry) -------------------------------
  /** Every message the agent gave (they say what to check); `alsoDown`: cameras an NVR covers. */
  'detected.device-down': { messages: string[]; alsoDown?: string[]; witness?: string };
  'detected.degraded': { code: string; lines: ReasonLine[] };
  /** An HTTPS device presents another certificate than the pinned one (SHA-256 fingerprints). */
  'detected.certificate-changed': { pinned: string; presented: string };
  /** The device answers but refuses the agent's credentials: the agent's messages, what to do. */
  'detected.credentials-rejected': { lines: ReasonLine[] };
  'detected.flapping': { count: number; windowMin: number };
  'detected.retention-short': { days: number; goal: number };
  /** `reason`: the agent's last will; `silentS`: offline by the heartbeat timeout. */
  'detected.site-unreachable': {
    agent: string;
    devices: number;
    reason?: string;
    silentS?: number;
  };
  'detected.site-outage': { down: string[]; cameras: number };
  'detected.gateway-resources': { problems: GatewayProblem[] };

  // ---- a fault a person reported (the first entry of a manual ticket) ---------------
  /**
   * `by`: the user who opened it; `via`: phone (NOC staff for a caller) or portal (the
   * customer's account); `description`: what the reporter said, as written (may be empty).
   */
  'reported.manual': { by: string; via: 'phone' | 'portal'; description: string };

  // ---- why a ticket ended by itself --------------------------------------------------
  'resolved.device-up': Record<string, never>;
  'resolved.not-reported': Record<string, never>;
  'resolved.gateway-ok': Record<string, never>;
  'resolved.agent-back': Record<string, never>;
  'resolved.flapping-calm': { windowMin: number };
  'resolved.retention-ok': { days: number; goal: number };
  'resolved.outage-over': { stillDown: number };
  'folded.site-outage': { site: string; cameras: number };

  // ---- the ticket desk --------------------------------------------------------------
  'ticket.reopened': { minutes: number; detail: Message };
  'ticket.covered': { added: string[]; gone: string[] };
  'ticket.paused': Record<string, never>;
  'ticket.resumed': Record<string, never>;
  'ticket.sla-warning': { deadline: string; leftMin: number };
  'ticket.sla-breach': { deadline: string; due: string };

  // ---- a person's step of the work order ---------------------------------------------
  'step.acknowledged': { note?: string };
  'step.dispatched': { engineer: string; note?: string };
  'step.on-site': { note?: string };
  'step.resolved': { cause: string; fix: string };
  'step.closed': { confirmation: string };
  /** A person's note, shown as they wrote it. */
  'step.note': { text: string };

  // ---- spare parts and warranty (broker/parts/, issue 16 part 7) --------------------
  /** A replacement recorded by an engineer; `depot`: where the part was taken from. */
  'part.replaced': {
    part: string;
    oldSerial?: string;
    newSerial?: string;
    depot?: string;
    warranty: boolean;
    note?: string;
  };
  /** The agent saw another serial number at the device's address: the device was replaced. */
  'part.detected': { oldSerial: string; newSerial: string };
  /** A replacement marked a warranty repair afterwards (PATCH). */
  'part.warranty-repair': { part: string };
  /** The device's warranty restarted: from `startsOn` to `endsOn` (`years` of the contract). */
  'part.warranty-restarted': { startsOn: string; endsOn: string; years: number };
  /**
   * An engineer needs a part: `stocked` in `depots`, its clock `hours` (the contract's
   * stocked or unstocked promise).
   */
  'part.needed': { part: string; stocked: boolean; depots: string[]; hours: number; note?: string };
  /** The unstocked part left for the site. */
  'part.shipped': { note?: string };

  // ---- notifications of tickets (broker/notify/: escalation, outbox, acknowledge link) ----
  /** A notification's first line; `stage`: why it goes out now; `deadline` for SLA stages. */
  'notify.subject': {
    priority: 'emergency' | 'serious' | 'general';
    stage: NotifyStage;
    id: number;
    title: Message;
    deadline?: string;
  };
  /**
   * A notification's body as channel-neutral markdown lines; times already in the
   * team's zone with its offset; null links: the broker has no public URL set.
   */
  'notify.body': {
    customer: string;
    site: string;
    device: string | null;
    fault: string;
    to: string[];
    respondBy: string | null;
    onSiteBy: string | null;
    resolveBy: string | null;
    ticketUrl: string | null;
    ackUrl: string | null;
  };
  /** Several notifications of one channel in one message (rate limit, general tickets). */
  'notify.digest-subject': { count: number };
  /** A channel failed every attempt for `minutes`: said through the other channels. */
  'notify.channel-alert': {
    channel: string;
    minutes: number;
    code: string;
    message: string;
    /** The service refused for good (a revoked token, a changed secret): said at once. */
    refused?: boolean;
  };
  /** Timeline: a page reached nobody (no channel reaches the site, or `channel` refused it and no other is enabled). */
  'notify.nowhere': { channel?: string };
  /** Timeline: `channel` refused a page for good; it went through the channels `to` instead. */
  'notify.fallback': { channel: string; to: string[] };
  /** Timeline: a notification was accepted by the channel's service. */
  'notify.sent': { channel: string; to: string[]; repeat?: boolean };
  /** Timeline: the channel's service refused it or could not be reached; `final`: given up. */
  'notify.failed': { channel: string; to: string[]; code: string; message: string; final: boolean };
  /** The acknowledge page (GET /ack/<token>): its heading, button and answers. */
  'ack.heading': { id: number };
  'ack.button': Record<string, never>;
  'ack.name': Record<string, never>;
  'ack.done': { by: string };
  'ack.already': { status: string; by: string | null };
  'ack.used': Record<string, never>;
  'ack.expired': Record<string, never>;
  'ack.invalid': Record<string, never>;

  // ---- the inspection report's evaluation and improvement advice (评测和改进意见) -----
  // One code per rule of broker/inspection/report.ts, with the figures that led to it:
  // the report keeps the code and figures, and a reader gets them in their language.
  /** Failed `outages` times in the period: `downMin` in all, the longest `longestMin`. */
  'advice.frequent-failures': Named & { outages: number; downMin: number; longestMin: number };
  /** Available `availabilityPct` % of the observed time (below 99 %). */
  'advice.low-availability': Named & { availabilityPct: number; outages: number; downMin: number };
  /** Leaves warranty on `endsOn` (a day, YYYY-MM-DD), within 90 days of the period's end. */
  'advice.warranty-ending': Named & { endsOn: string };
  /** Kept `days` of recordings at the least, the site's goal is `goal`. */
  'advice.retention-below-goal': Named & { days: number; goal: number };
  /** The clock was up to `offsetS` seconds off. */
  'advice.clock-drift': Named & { offsetS: number };
  /** `breached` deadlines of `priority` tickets were missed, `met` were kept. */
  'advice.sla-breaches': {
    priority: 'emergency' | 'serious' | 'general';
    breached: number;
    met: number;
  };

  /** Text kept from before messages had codes (older tickets), shown as it was. */
  text: { text: string };
}

export type MessageCode = keyof MessageParams;

export type Message = {
  [C in MessageCode]: { code: C; params: MessageParams[C] };
}[MessageCode];

export type MessageOf<C extends MessageCode> = { code: C; params: MessageParams[C] };

/** A message of `code` with its parameters (typed per code). */
export function message<C extends MessageCode>(code: C, params: MessageParams[C]): MessageOf<C> {
  return { code, params };
}

const NO_PARAMS: Record<string, never> = {};

/** A message without parameters. */
export function bare<
  C extends {
    [K in MessageCode]: MessageParams[K] extends Record<string, never> ? K : never;
  }[MessageCode],
>(code: C): MessageOf<C> {
  return { code, params: NO_PARAMS as MessageParams[C] };
}
