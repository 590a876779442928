/**
 * Trust on first use for HTTPS device services: the SHA-256 fingerprint of each device's
 * leaf certificate, pinned at the first TLS connection and kept in `dataDir/tls-pins.json`
 * across restarts (beside discovered.json and the spool). A later connection that presents
 * another certificate is refused until an operator accepts it, from the console (the
 * trust-certificate command) or on the gateway (`vigil agent trust DEVICE`); the file keeps
 * the last acceptances of each device (who, when, which fingerprints).
 *
 * Written atomically like the discovered store (temporary file, fsync, rename, fsync of the
 * folder), and each write goes first to `tls-pins.json.bak`, the last good copy: a damaged
 * or unreadable file (a disk error, a hand edit) is read from that copy, and when neither
 * can be read no device is trusted on first use any more (certificate-untrusted naming the
 * file) until an operator accepts its certificate. Losing the file must never turn into a
 * silent acceptance of whatever answers. `vigil agent trust` writes the same file while the
 * agent runs: a mismatch reads the file again before refusing, and each save merges what
 * is newer on disk, so neither writer loses the other's pin.
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
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

/** Acceptances kept per device, newest last. */
const HISTORY = 10;

const Acceptance = Type.Object({
  at: Type.String({ format: 'date-time' }),
  by: Type.String({ maxLength: 200 }),
  previous: Fingerprint,
  accepted: Fingerprint,
});

const Pin = Type.Object({
  fingerprint: Fingerprint,
  /** When this fingerprint was pinned (first use) or accepted. */
  since: Type.String({ format: 'date-time' }),
  how: Type.Union([Type.Literal('first-use'), Type.Literal('accepted')]),
  history: Type.Array(Acceptance, { maxItems: HISTORY }),
});

const Lost = Type.Object({
  /** When the loss was first seen. */
  at: Type.String({ format: 'date-time' }),
  /** What was wrong with the file and its copy. */
  problem: Type.String(),
});

const PinsFile = Type.Object({
  version: Type.Literal(1),
  devices: Type.Record(Type.String(), Pin),
  /**
   * Set when the pins were lost (the file and its copy unreadable) and written again from
   * acceptances: a device with no pin here is refused, not pinned on first use, since it
   * may have had one. Removing both files is the deliberate way back to trust on first use.
   */
  lost: Type.Optional(Lost),
});

export type Pin = Static<typeof Pin>;
type Lost = Static<typeof Lost>;
type PinsFile = Static<typeof PinsFile>;
const check = validator(PinsFile);

/** What a presented certificate is to the store. */
export type PinVerdict =
  | { ok: true; firstUse: boolean }
  | { ok: false; pinned: string; presented: string }
  /** No pin, and the pins were lost: nothing is trusted on first use (`why` says what to do). */
  | { ok: false; pinned: null; presented: string; why: string };

/** What reading the file gave: the pins, and whether they were lost. */
interface Read {
  pins: Record<string, Pin>;
  /** Set when the pins could be read neither from the file nor from its copy. */
  lost?: Lost;
  /** The file itself is damaged or unreadable (set aside before it is written again). */
  damaged: boolean;
}

export class PinStore {
  readonly #dir: string;
  readonly #log: Logger;
  #pins = new Map<string, Pin>();
  /** Set once the pins were lost: a device without a pin is not trusted on first use. */
  #lost: Lost | undefined;
  /** The fingerprint each device presented and was refused for, last seen. */
  readonly #refused = new Map<string, string>();
  /** The last warning about the file, said once. */
  #warned = '';

  constructor(dir: string, log: Logger) {
    this.#dir = dir;
    this.#log = log;
  }

  get path(): string {
    return join(this.#dir, PINS_FILE);
  }

  get backupPath(): string {
    return join(this.#dir, PINS_BACKUP);
  }

  /**
   * Reads the file; a missing file is no pin yet, a damaged one is read from its last good
   * copy, and with neither the pins are lost (see verify).
   */
  load(): void {
    const read = this.#read();
    this.#pins = new Map(Object.entries(read.pins));
    this.#lost = read.lost;
  }

  /** What was wrong when the pins were lost (none is trusted on first use since), if so. */
  get lost(): string | undefined {
    return this.#lost?.problem;
  }

  get(deviceId: string): Pin | undefined {
    return this.#pins.get(deviceId);
  }

  /** The fingerprint the device last presented and was refused for, if any. */
  refused(deviceId: string): string | undefined {
    return this.#refused.get(deviceId);
  }

  /**
   * The verdict on a certificate a device presents now: pinned if the device has no pin
   * yet (trust on first use), accepted if it is the pinned one, refused otherwise.
   */
  verify(deviceId: string, presented: string): PinVerdict {
    let pin = this.#pins.get(deviceId);
    if (!pin || pin.fingerprint !== presented) {
      // `vigil agent trust` may have accepted it since: the file is the truth it wrote. And
      // before a first use, the file must still be readable (else it may hold this pin).
      const read = this.#read();
      if (!pin) this.#lost ??= read.lost;
      const onDisk = read.pins[deviceId];
      if (onDisk && (!pin || onDisk.since > pin.since)) {
        this.#pins.set(deviceId, onDisk);
        pin = onDisk;
        this.#log.info(
          `device ${deviceId}: HTTPS certificate ${onDisk.fingerprint} accepted on the gateway (${onDisk.history.at(-1)?.by ?? 'vigil agent trust'})`,
        );
      }
    }
    if (!pin && this.#lost) {
      this.#refused.set(deviceId, presented);
      return {
        ok: false,
        pinned: null,
        presented,
        why:
          `the HTTPS pins were lost (${this.#lost.problem}), so no certificate is trusted on first use: ` +
          `compare SHA-256 ${presented} with the device's own certificate, then accept it ` +
          `(vigil agent trust ${deviceId} --config FILE --fingerprint ${presented}, or the ` +
          `trust-certificate command); removing ${this.path} and ${this.backupPath} and ` +
          'restarting the agent pins every device again on first use',
      };
    }
    if (!pin) {
      this.#pins.set(deviceId, {
        fingerprint: presented,
        since: new Date().toISOString(),
        how: 'first-use',
        history: [],
      });
      this.#save();
      this.#log.info(
        `device ${deviceId}: HTTPS certificate pinned on first use (SHA-256 ${presented})`,
      );
      return { ok: true, firstUse: true };
    }
    if (pin.fingerprint === presented) {
      this.#refused.delete(deviceId);
      return { ok: true, firstUse: false };
    }
    this.#refused.set(deviceId, presented);
    return { ok: false, pinned: pin.fingerprint, presented };
  }

  /**
   * Pins `fingerprint` for the device in place of the one it had, on an operator's word;
   * resolves with the acceptance recorded (its `previous` is null for a device never pinned).
   */
  accept(
    deviceId: string,
    fingerprint: string,
    by: string,
  ): { previous: string | null; accepted: string } {
    const pin = this.#pins.get(deviceId);
    const at = new Date().toISOString();
    const history = pin ? [...pin.history] : [];
    if (pin) history.push({ at, by, previous: pin.fingerprint, accepted: fingerprint });
    this.#pins.set(deviceId, {
      fingerprint,
      since: at,
      how: 'accepted',
      history: history.slice(-HISTORY),
    });
    this.#refused.delete(deviceId);
    this.#save();
    this.#log.info(
      `device ${deviceId}: HTTPS certificate ${fingerprint} accepted by ${by} (was ${pin?.fingerprint ?? 'not pinned'})`,
    );
    return { previous: pin?.fingerprint ?? null, accepted: fingerprint };
  }

  /**
   * The pins on disk: the file, else its last good copy. Neither file: no pin yet (a new
   * gateway). The file damaged or unreadable and no good copy: lost, with why; the damaged
   * file stays where it is, so a restart does not take its absence for a new gateway.
   */
  #read(): Read {
    const main = this.#readOne(this.path);
    if (main.pins) {
      return {
        pins: main.pins.devices,
        damaged: false,
        ...(main.pins.lost ? { lost: main.pins.lost } : {}),
      };
    }
    const damaged = main.problem !== undefined;
    const copy = this.#readOne(this.backupPath);
    if (!damaged && copy.problem === undefined && !copy.pins) return { pins: {}, damaged };
    const problem = `${this.path}: ${main.problem ?? 'missing'}`;
    if (copy.pins) {
      this.#warnOnce(
        `${problem}; the HTTPS pins are read from its last good copy ${this.backupPath} (written with it)`,
      );
      return {
        pins: copy.pins.devices,
        damaged,
        ...(copy.pins.lost ? { lost: copy.pins.lost } : {}),
      };
    }
    const lost = {
      at: new Date().toISOString(),
      problem: `${problem}; ${this.backupPath}: ${copy.problem ?? 'missing'}`,
    };
    this.#warnOnce(
      `the HTTPS pins are lost (${lost.problem}): no device is trusted on first use until an operator accepts its certificate`,
    );
    return { pins: {}, damaged, lost };
  }

  /** One file: its pins, nothing if it does not exist, or what is wrong with it. */
  #readOne(path: string): { pins?: PinsFile; problem?: string } {
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

  /**
   * Writes the pins, merged with what is newer on disk (the CLI's acceptances). Pins are
   * rare (first contact, an operator's acceptance), so the write is synchronous: it is
   * durable before the first request goes to a freshly pinned device.
   */
  #save(): void {
    const onDisk = this.#read();
    for (const [id, pin] of Object.entries(onDisk.pins)) {
      const mine = this.#pins.get(id);
      if (!mine || pin.since > mine.since) this.#pins.set(id, pin);
    }
    // Lost once, lost until both files are removed on purpose: the marker is written on.
    this.#lost = this.#lost ?? onDisk.lost;
    const content: PinsFile = {
      version: 1,
      devices: Object.fromEntries(this.#pins),
      ...(this.#lost ? { lost: this.#lost } : {}),
    };
    const text = JSON.stringify(content, null, 1);
    try {
      mkdirSync(this.#dir, { recursive: true });
      // Kept for whoever looks into what damaged it.
      if (onDisk.damaged) renameSync(this.path, `${this.path}.corrupt`);
      // The copy first: whatever happens to the file afterwards, one of the two holds
      // every pin written.
      this.#replace(this.backupPath, text);
      this.#replace(this.path, text);
    } catch (error) {
      this.#log.warn(
        `cannot save the HTTPS pins to ${this.path} (${(error as Error).message}); they hold until a restart: check the data folder is writable`,
      );
    }
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
