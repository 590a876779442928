/**
 * The fault catalogue: what each kind of fault does to a device. A fault never acts by
 * itself; it changes the device's effects, and the device (device.ts) makes its sockets
 * match them. A new kind is a schema in shared/api/sim.ts plus one entry here; the
 * compiler refuses a kind without an entry.
 */
import type { SimFault, SimFaultKind } from '../shared/api/sim.js';

/** How a device behaves on the network, once all of its faults are applied. */
export interface FaultEffects {
  /** The device's port accepts connections; false: connections are refused. */
  listening: boolean;
  /** Requests get answers; false: they are read and then held, unanswered. */
  answering: boolean;
}

export const healthyEffects: Readonly<FaultEffects> = { listening: true, answering: true };

interface FaultEntry<F extends SimFault> {
  /** One line for error messages and help: what the fault does. */
  summary: string;
  example: F;
  apply(effects: FaultEffects, fault: F): FaultEffects;
}

type Catalogue = { [K in SimFaultKind]: FaultEntry<Extract<SimFault, { kind: K }>> };

const catalogue: Catalogue = {
  offline: {
    summary: 'the device port refuses connections (powered off, cable cut)',
    example: { kind: 'offline' },
    apply: (effects) => ({ ...effects, listening: false }),
  },
  hang: {
    summary: 'the device accepts connections and requests but never answers (firmware hung)',
    example: { kind: 'hang' },
    apply: (effects) => ({ ...effects, answering: false }),
  },
};

export const faultKinds = Object.keys(catalogue) as SimFaultKind[];

function entryOf<F extends SimFault>(fault: F): FaultEntry<F> {
  // The mapped type guarantees catalogue[fault.kind] handles exactly this kind.
  return catalogue[fault.kind] as unknown as FaultEntry<F>;
}

export function effectsOf(faults: readonly SimFault[]): FaultEffects {
  return faults.reduce((effects, fault) => entryOf(fault).apply(effects, fault), {
    ...healthyEffects,
  });
}

/** The device's faults after adding one: a kind is active once, the newest one wins. */
export function withFault(faults: readonly SimFault[], fault: SimFault): SimFault[] {
  return [...faults.filter((f) => f.kind !== fault.kind), fault];
}

/** What the control API accepts, for the answer to a bad request. */
export function acceptedFaults(): string[] {
  return faultKinds.map((kind) => {
    const entry = catalogue[kind];
    return `${JSON.stringify(entry.example)}: ${entry.summary}`;
  });
}
