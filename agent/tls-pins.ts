/**
 * Trust on first use for HTTPS device services: the SHA-256 fingerprint of the leaf
 * certificate each device presents at each address (host:port), pinned at the first TLS
 * connection and kept in `dataDir/tls-pins.json` across restarts (beside discovered.json
 * and the spool). A device may name other https addresses than its service (a snapshot
 * URI on another port or host, a pull point): each has its own certificate, so each has
 * its own pin, never the service's. A later connection that presents another certificate
 * is refused until an operator accepts it, from the console (the trust-certificate
 * command) or on the gateway (`vigil agent trust DEVICE`); the file keeps the last
 * acceptances of each (who, when, which fingerprints). Files written before pins were per
 * address (version 1, one pin per device) are read on: that pin was made at the device
 * service, so it becomes the service address's pin at the first connection there.
 *
 * Written atomically like the discovered store (temporary file, fsync, rename, fsync of the
 * folder), and each write goes first to `tls-pins.json.bak`, the last good copy: a damaged
 * or unreadable file (a disk error, a hand edit) is read from that copy, and when neither
 * can be read no device is trusted on first use any more (certificate-untrusted naming the
 * file) until an operator accepts its certificate. Losing the file must never turn into a
 * silent acceptance of whatever answers.
 *
 * `vigil agent trust` writes the same file while the agent runs. Every change is a
 * read-merge-write under an exclusive lock file (`tls-pins.json.lock`, created with O_EXCL
 * and holding the writer's pid) that both take, and raises the file's revision; each pin
 * carries the revision it was written at, and the higher revision wins a merge. Wall
 * clocks decide nothing: two writes in the same millisecond, or a clock set back, would
 * otherwise let the older pin overwrite the newer. A mismatch reads the file again before
 * refusing, so an acceptance on the gateway is taken up at the next poll.
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { Type, type Static } from 'typebox';
import { Fingerprint } from '../shared/messages/device-state.js';
import { validator } from '../shared/validate.js';
import type { Logger } from './log.js';

export const PINS_FILE = 'tls-pins.json';
/** The last good copy, written before each replace of PINS_FILE. */
export const PINS_BACKUP = `${PINS_FILE}.bak`;
/** Held by whoever reads, merges and writes PINS_FILE (the agent, `vigil agent trust`). */
export const PINS_LOCK = `${PINS_FILE}.lock`;

/** Acceptances kept per device, newest last. */
const HISTORY = 10;
/**
 * How long a writer waits for the lock. A holder keeps it for one read and two small
 * fsynced writes (milliseconds); a holder whose process is gone is taken over at once.
 */
const LOCK_WAIT_MS = 2000;
/** Between two tries for the lock (a blocking wait: pin writes are rare and synchronous). */
const LOCK_RETRY_MS = 10;

const Acceptance = Type.Object({
  at: Type.String({ format: 'date-time' }),
  by: Type.String({ maxLength: 200 }),
  previous: Fingerprint,
  accepted: Fingerprint,
});

const Pin = Type.Object({
  fingerprint: Fingerprint,
  /** When this fingerprint was pinned (first use) or accepted: for people, never compared. */
  since: Type.String({ format: 'date-time' }),
  how: Type.Union([Type.Literal('first-use'), Type.Literal('accepted')]),
  history: Type.Array(Acceptance, { maxItems: HISTORY }),
  /** The file's revision this pin was written at (absent in files before it: 0). */
  revision: Type.Optional(Type.Integer({ minimum: 0 })),
});

const Lost = Type.Object({
  /** When the loss was first seen. */
  at: Type.String({ format: 'date-time' }),
  /** What was wrong with the file and its copy. */
  problem: Type.String(),
});

/**
 * Set when the pins were lost (the file and its copy unreadable) and written again from
 * acceptances: a device with no pin here is refused, not pinned on first use, since it may
 * have had one. Removing both files is the deliberate way back to trust on first use.
 */
const LostField = Type.Optional(Lost);
/** Raised by one at every write (absent in files before it: 0). */
const RevisionField = Type.Optional(Type.Integer({ minimum: 0 }));

/** Before pins were per address: one pin per device id, made at its device service. */
const PinsFileV1 = Type.Object({
  version: Type.Literal(1),
  revision: RevisionField,
  devices: Type.Record(Type.String(), Pin),
  lost: LostField,
});

/**
 * Per device id, per address (`host:port`, device-tls.ts's endpointOf); the address `*` is a
 * version 1 pin not yet placed at its device's service address.
 */
const PinsFile = Type.Object({
  version: Type.Literal(2),
  revision: RevisionField,
  devices: Type.Record(Type.String(), Type.Record(Type.String(), Pin)),
  lost: LostField,
});

export type Pin = Static<typeof Pin>;
type Lost = Static<typeof Lost>;
type PinsFile = Static<typeof PinsFile>;
type PinsFileV1 = Static<typeof PinsFileV1>;
const check = validator(Type.Union([PinsFile, PinsFileV1]));

/** The address of a version 1 pin, until it is placed at the device's service address. */
const UNPLACED = '*';

/** Where a certificate is presented: a device, at one of its addresses. */
export interface PinAt {
  deviceId: string;
  /** `host:port`, as onvif/device-tls.ts's endpointOf makes it. */
  endpoint: string;
  /** This is the device service's address (where a version 1 pin of the device was made). */
  service: boolean;
}

/** The key of a pin in memory: device ids have no space (shared/ids.ts). */
function keyOf(deviceId: string, endpoint: string): string {
  return `${deviceId} ${endpoint}`;
}

/** What a presented certificate is to the store. */
export type PinVerdict =
  | { ok: true; firstUse: boolean }
  | { ok: false; pinned: string; presented: string }
  /** No pin, and none may be made now (`why` says why and what to do). */
  | { ok: false; pinned: null; presented: string; why: string };

/** What reading the file gave: the pins, and whether they were lost. */
interface Read {
  pins: Record<string, Pin>;
  revision: number;
  /** Set when the pins could be read neither from the file nor from its copy. */
  lost?: Lost;
  /** The file itself is damaged or unreadable (set aside before it is written again). */
  damaged: boolean;
}

/** A file's pins by key; a version 1 file's are unplaced. */
function contents(file: PinsFile | PinsFileV1): Omit<Read, 'damaged'> {
  const pins: Record<string, Pin> = {};
  for (const [id, value] of Object.entries(file.devices)) {
    if (file.version === 1) {
      pins[keyOf(id, UNPLACED)] = value as Pin;
      continue;
    }
    for (const [endpoint, pin] of Object.entries(value as Record<string, Pin>)) {
      pins[keyOf(id, endpoint)] = pin;
    }
  }
  return { pins, revision: file.revision ?? 0, ...(file.lost ? { lost: file.lost } : {}) };
}

/** Another writer holds the pin file's lock. */
export class PinsLocked extends Error {}

/** Blocks the thread for `ms` (Atomics.wait on a buffer nobody notifies). */
const sleeper = new Int32Array(new SharedArrayBuffer(4));
function pause(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** Whether a process of this pid runs (signal 0 only checks: POSIX kill(2)). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class PinStore {
  readonly #dir: string;
  readonly #log: Logger;
  readonly #lockWaitMs: number;
  #pins = new Map<string, Pin>();
  /** The file's revision last read or written. */
  #revision = 0;
  /** Set once the pins were lost: a device without a pin is not trusted on first use. */
  #lost: Lost | undefined;
  /** The fingerprint presented and refused at each device's address, last seen, by key. */
  readonly #refused = new Map<string, string>();
  /** The last warning about the file, said once. */
  #warned = '';

  /** `lockWaitMs`: how long a write waits for another writer's lock (tests say 0). */
  constructor(dir: string, log: Logger, options: { lockWaitMs?: number } = {}) {
    this.#dir = dir;
    this.#log = log;
    this.#lockWaitMs = options.lockWaitMs ?? LOCK_WAIT_MS;
  }

  get path(): string {
    return join(this.#dir, PINS_FILE);
  }

  get backupPath(): string {
    return join(this.#dir, PINS_BACKUP);
  }

  get lockPath(): string {
    return join(this.#dir, PINS_LOCK);
  }

  /**
   * Reads the file; a missing file is no pin yet, a damaged one is read from its last good
   * copy, and with neither the pins are lost (see verify).
   */
  load(): void {
    const read = this.#read();
    this.#pins = new Map(Object.entries(read.pins));
    this.#revision = read.revision;
    this.#lost = read.lost;
  }

  /** What was wrong when the pins were lost (none is trusted on first use since), if so. */
  get lost(): string | undefined {
    return this.#lost?.problem;
  }

  /** The pin of a device's address (at its service, a version 1 pin not yet placed). */
  get(at: PinAt): Pin | undefined {
    return this.#pins.get(keyOf(at.deviceId, at.endpoint)) ?? this.#unplaced(at);
  }

  /** The addresses of a device and what each last presented and was refused for. */
  refusals(deviceId: string): { endpoint: string; presented: string }[] {
    const prefix = keyOf(deviceId, '');
    return [...this.#refused]
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, presented]) => ({ endpoint: key.slice(prefix.length), presented }));
  }

  /** A version 1 pin of the device, for its service address while nothing else is pinned. */
  #unplaced(at: PinAt): Pin | undefined {
    if (!at.service) return undefined;
    const prefix = keyOf(at.deviceId, '');
    for (const key of this.#pins.keys()) {
      if (key.startsWith(prefix) && key !== keyOf(at.deviceId, UNPLACED)) return undefined;
    }
    return this.#pins.get(keyOf(at.deviceId, UNPLACED));
  }

  /**
   * The verdict on a certificate a device presents now at one address: pinned if the
   * address has no pin yet (trust on first use), accepted if it is the pinned one, refused
   * otherwise.
   */
  verify(at: PinAt, presented: string): PinVerdict {
    const key = keyOf(at.deviceId, at.endpoint);
    const where = `device ${at.deviceId} at ${at.endpoint}`;
    let pin = this.get(at);
    if (!pin || pin.fingerprint !== presented) {
      // `vigil agent trust` may have accepted it since: the file is the truth it wrote. And
      // before a first use, the file must still be readable (else it may hold this pin).
      const read = this.#read();
      if (!pin) this.#lost ??= read.lost;
      this.#merge(read);
      pin = this.get(at);
    }
    if (!pin && this.#lost) {
      this.#refused.set(key, presented);
      return {
        ok: false,
        pinned: null,
        presented,
        why:
          `the HTTPS pins were lost (${this.#lost.problem}), so no certificate is trusted on first use: ` +
          `compare SHA-256 ${presented} with the certificate of ${at.endpoint}, then accept it ` +
          `(vigil agent trust ${at.deviceId} --config FILE --fingerprint ${presented}, or the ` +
          `trust-certificate command); removing ${this.path} and ${this.backupPath} and ` +
          'restarting the agent pins every device again on first use',
      };
    }
    if (!pin || !this.#pins.has(key)) {
      let made: { pin: Pin; first: boolean };
      try {
        // Under the lock: another process may have pinned or accepted it meanwhile. A
        // version 1 pin is placed at the service address here, as it is (same revision).
        made = this.#update((revision) => {
          const had = this.get(at);
          if (had) {
            this.#pins.set(key, had);
            return { pin: had, first: false };
          }
          const first: Pin = {
            fingerprint: presented,
            since: new Date().toISOString(),
            how: 'first-use',
            history: [],
            revision,
          };
          this.#pins.set(key, first);
          return { pin: first, first: true };
        });
      } catch (error) {
        if (!(error instanceof PinsLocked)) throw error;
        // Not pinned unless it is written: the next poll asks again.
        this.#refused.set(key, presented);
        return { ok: false, pinned: null, presented, why: error.message };
      }
      if (made.first) {
        this.#log.info(`${where}: HTTPS certificate pinned on first use (SHA-256 ${presented})`);
        return { ok: true, firstUse: true };
      }
      pin = made.pin;
    }
    if (pin.fingerprint === presented) {
      this.#refused.delete(key);
      return { ok: true, firstUse: false };
    }
    this.#refused.set(key, presented);
    return { ok: false, pinned: pin.fingerprint, presented };
  }

  /**
   * Pins `fingerprint` for the device's address in place of the one it had, on an
   * operator's word; resolves with the acceptance recorded (its `previous` is null for an
   * address never pinned). Throws PinsLocked when another writer holds the file longer
   * than the lock wait.
   */
  accept(
    at: PinAt,
    fingerprint: string,
    by: string,
  ): { previous: string | null; accepted: string } {
    const key = keyOf(at.deviceId, at.endpoint);
    const previous = this.#update((revision) => {
      // The pin as the file has it now, merged under the lock.
      const pin = this.get(at);
      const when = new Date().toISOString();
      const history = pin ? [...pin.history] : [];
      if (pin) history.push({ at: when, by, previous: pin.fingerprint, accepted: fingerprint });
      this.#pins.set(key, {
        fingerprint,
        since: when,
        how: 'accepted',
        history: history.slice(-HISTORY),
        revision,
      });
      return pin?.fingerprint ?? null;
    });
    this.#refused.delete(key);
    this.#log.info(
      `device ${at.deviceId} at ${at.endpoint}: HTTPS certificate ${fingerprint} accepted by ${by} (was ${previous ?? 'not pinned'})`,
    );
    return { previous, accepted: fingerprint };
  }

  /** Takes up every pin the file has at a higher revision than ours (another writer's). */
  #merge(read: Read): void {
    for (const [key, pin] of Object.entries(read.pins)) {
      const mine = this.#pins.get(key);
      if (mine && (pin.revision ?? 0) <= (mine.revision ?? 0)) continue;
      this.#pins.set(key, pin);
      if (mine && mine.fingerprint !== pin.fingerprint) {
        const [id, endpoint] = key.split(' ');
        this.#log.info(
          `device ${id} at ${endpoint}: HTTPS certificate ${pin.fingerprint} accepted on the gateway (${pin.history.at(-1)?.by ?? 'vigil agent trust'})`,
        );
      }
    }
    this.#revision = Math.max(this.#revision, read.revision);
  }

  /**
   * One change, made between a read and a write of the file under its lock, at the next
   * revision (given to `change`). Pins are rare (first contact, an operator's acceptance),
   * so the write is synchronous: it is durable before the first request goes to a freshly
   * pinned device. A failed write is said and the change holds in memory until a restart.
   */
  #update<T>(change: (revision: number) => T): T {
    let release: () => void;
    try {
      mkdirSync(this.#dir, { recursive: true });
      release = this.#lock();
    } catch (error) {
      if (error instanceof PinsLocked) throw error;
      // No file can be made in the folder, so the pins cannot be written either.
      this.#merge(this.#read());
      this.#revision += 1;
      const result = change(this.#revision);
      this.#cannotSave(error);
      return result;
    }
    try {
      const onDisk = this.#read();
      this.#merge(onDisk);
      // Lost once, lost until both files are removed on purpose: the marker is written on.
      this.#lost = this.#lost ?? onDisk.lost;
      const revision = this.#revision + 1;
      const result = change(revision);
      const content: PinsFile = {
        version: 2,
        revision,
        devices: this.#nested(),
        ...(this.#lost ? { lost: this.#lost } : {}),
      };
      const text = JSON.stringify(content, null, 1);
      try {
        // Kept for whoever looks into what damaged it.
        if (onDisk.damaged) renameSync(this.path, `${this.path}.corrupt`);
        // The copy first: whatever happens to the file afterwards, one of the two holds
        // every pin written.
        this.#replace(this.backupPath, text);
        this.#replace(this.path, text);
        this.#revision = revision;
      } catch (error) {
        this.#cannotSave(error);
      }
      return result;
    } finally {
      release();
    }
  }

  /**
   * The pins as the file holds them. A version 1 pin is left out once its device has a pin
   * at an address: its service address is the first the device is reached at in a poll.
   */
  #nested(): PinsFile['devices'] {
    const devices: PinsFile['devices'] = {};
    for (const [key, pin] of this.#pins) {
      const [id = '', endpoint = ''] = key.split(' ');
      (devices[id] ??= {})[endpoint] = pin;
    }
    for (const pins of Object.values(devices)) {
      if (Object.keys(pins).length > 1) delete pins[UNPLACED];
    }
    return devices;
  }

  #cannotSave(error: unknown): void {
    this.#log.warn(
      `cannot save the HTTPS pins to ${this.path} (${(error as Error).message}); they hold until a restart: check the data folder is writable`,
    );
  }

  /**
   * The exclusive lock around a read-merge-write: a file created with O_EXCL (`wx`), holding
   * the pid of its holder, removed when done. A lock whose holder no longer runs (killed
   * between the two) is taken over; one held past the wait is a PinsLocked error that names
   * the file and says what to do.
   */
  #lock(): () => void {
    const path = this.lockPath;
    const deadline = Date.now() + this.#lockWaitMs;
    for (;;) {
      try {
        const fd = openSync(path, 'wx', 0o600);
        try {
          writeSync(fd, String(process.pid));
        } finally {
          closeSync(fd);
        }
        return () => {
          try {
            unlinkSync(path);
          } catch {
            // Already gone (taken over as stale): nothing to release.
          }
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = this.#holder(path);
      if (holder !== undefined && holder !== process.pid && !alive(holder)) {
        // Its holder died between lock and unlock. Removed only if still that one's.
        if (this.#holder(path) === holder) {
          try {
            unlinkSync(path);
          } catch {
            // Someone else took it over first.
          }
        }
        continue;
      }
      if (Date.now() >= deadline) {
        throw new PinsLocked(
          `cannot write ${this.path}: ${path} is held by process ${holder ?? '(unknown)'}; ` +
            'it is released within moments by the agent or vigil agent trust: try again, and ' +
            'if no such process runs, remove the lock file',
        );
      }
      pause(LOCK_RETRY_MS);
    }
  }

  /** The pid in a lock file, if it can be read yet. */
  #holder(path: string): number | undefined {
    try {
      const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The pins on disk: the file, else its last good copy. Neither file: no pin yet (a new
   * gateway). The file damaged or unreadable and no good copy: lost, with why; the damaged
   * file stays where it is, so a restart does not take its absence for a new gateway.
   */
  #read(): Read {
    const main = this.#readOne(this.path);
    if (main.pins) return { ...contents(main.pins), damaged: false };
    const damaged = main.problem !== undefined;
    const copy = this.#readOne(this.backupPath);
    if (!damaged && copy.problem === undefined && !copy.pins) {
      return { pins: {}, revision: 0, damaged };
    }
    const problem = `${this.path}: ${main.problem ?? 'missing'}`;
    if (copy.pins) {
      this.#warnOnce(
        `${problem}; the HTTPS pins are read from its last good copy ${this.backupPath} (written with it)`,
      );
      return { ...contents(copy.pins), damaged };
    }
    const lost = {
      at: new Date().toISOString(),
      problem: `${problem}; ${this.backupPath}: ${copy.problem ?? 'missing'}`,
    };
    this.#warnOnce(
      `the HTTPS pins are lost (${lost.problem}): no device is trusted on first use until an operator accepts its certificate`,
    );
    return { pins: {}, revision: 0, damaged, lost };
  }

  /** One file: its pins, nothing if it does not exist, or what is wrong with it. */
  #readOne(path: string): { pins?: PinsFile | PinsFileV1; problem?: string } {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      return { problem: `unreadable (${(error as Error).message})` };
    }
    try {
      const result = check(JSON.parse(text));
      if (result.ok) return { pins: result.value };
      return { problem: `damaged (${result.errors.slice(0, 3).join('; ')})` };
    } catch (error) {
      return { problem: `damaged (${(error as Error).message})` };
    }
  }

  /** A damaged file is read again at each refusal: said once per cause, not per poll. */
  #warnOnce(message: string): void {
    if (message === this.#warned) return;
    this.#warned = message;
    this.#log.warn(message);
  }

  /** Atomic replace: temporary file, fsync, rename, fsync of the folder. */
  #replace(path: string, text: string): void {
    const tmp = `${path}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    // The rename is durable only once the folder is synced (POSIX fsync).
    const dir = openSync(this.#dir, 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  }
}
