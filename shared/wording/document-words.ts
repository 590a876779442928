/**
 * The shape of the documents' words (./documents.ts), apart from the words themselves so
 * that each language's file (./documents-en.ts, ./documents-zh-CN.ts) and the module that
 * gathers them import it without importing each other.
 */
type PriorityName = 'emergency' | 'serious' | 'general';
type WarrantyStateName = 'in-warranty' | 'ending-soon' | 'expired' | 'unknown';
type ClockState = 'running' | 'warning' | 'paused' | 'met' | 'breached';

/** The parts of an instant in a zone, for a language's own way of writing it. */
export interface ZonedParts {
  year: string;
  month: string;
  day: string;
  hour: string;
  minute: string;
  /** "UTC+08:00"; "UTC+00:00" for UTC itself. */
  offset: string;
}

export interface DocumentWords {
  /** The page's `lang` attribute (BCP 47). */
  lang: string;
  /** An empty cell. */
  dash: string;
  none: string;
  /** A local time with its offset. */
  time: (parts: ZonedParts) => string;
  /** A calendar day, YYYY-MM-DD as stored. */
  day: (day: string) => string;
  /** A report's period: "2026-11" or "2026-Q4". */
  period: (period: string) => string;
  minutes: (n: number) => string;
  hours: (n: number) => string;
  /** A whole duration: minutes, or hours and minutes. */
  duration: (minutes: number) => string;
  percent: (value: number) => string;
  priority: Record<PriorityName, string>;
  kind: Record<'camera' | 'nvr', string>;
  signProvider: string;
  signCustomer: string;
  signDate: string;
  generated: (when: string) => string;

  inspection: {
    title: (siteId: string, period: string) => string;
    heading: (siteName: string, siteId: string, period: string) => string;
    customer: string;
    period: string;
    /** The period's bounds, already written, and the zone they are in. */
    range: (from: string, to: string, zone: string) => string;
    availability: string;
    devices: string;
    deviceColumns: readonly string[];
    warranty: Record<WarrantyStateName, string>;
    tickets: string;
    ticketColumns: readonly string[];
    acknowledged: (count: number, median: string, slowest: string) => string;
    inventory: string;
    inventoryColumns: readonly string[];
    change: Record<'replaced' | 'firmware', string>;
    /**
     * The inspection export's header (console/src/data/inspection.ts inspectionCsv): one
     * column per device figure, durations in seconds, as a spreadsheet reads them.
     */
    csvColumns: readonly string[];
    /** The contract's 评测和改进意见. */
    advice: string;
    noAdvice: string;
  };

  incident: {
    title: (id: number) => string;
    heading: (id: number) => string;
    whatFailed: string;
    siteDevice: string;
    faultPriority: string;
    detected: string;
    /** A manual ticket's opening: reported by a person, not detected. */
    reported: string;
    reportedBy: (when: string, by: string, via: 'phone' | 'portal') => string;
    description: string;
    resolved: string;
    notResolved: string;
    engineer: string;
    cause: string;
    fix: string;
    covers: string;
    confirmation: string;
    sla: string;
    slaMet: string;
    slaBreached: string;
    deadlines: string;
    deadlineColumns: readonly string[];
    deadline: Record<string, string>;
    state: Record<ClockState, string>;
    log: string;
    /** The service log's headers; the first names the zone of its times. */
    logColumns: (zone: string) => readonly string[];
    /** A timeline entry's kind (detected, acknowledged, ...). */
    step: Readonly<Record<string, string>>;
    /** The actor of what Vigil did by itself. */
    system: string;
    /** The base faults and a manual ticket's; a degraded fault is named by its reason. */
    fault: Readonly<Record<string, string>>;
  };
}
