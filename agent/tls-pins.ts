/**
 * Trust on first use for HTTPS device services: the SHA-256 fingerprint of each device's
 * leaf certificate, pinned at the first TLS connection and kept in `dataDir/tls-pins.json`
 * across restarts (beside discovered.json and the spool). A later connection that presents
 * another certificate is refused until an operator accepts it, from the console (the
 * trust-certificate command) or on the gateway (`vigil agent trust DEVICE`); the file keeps
 * the last acceptances of each device (who, when, which fingerprints).
 *
 * Written atomically like the discovered store (temporary file, fsync, rename, fsync of the
 * folder). `vigil agent trust` writes the same file while the agent runs: a mismatch reads
 * the file again before refusing, and each save merges what is newer on disk, so neither
 * writer loses the other's pin.
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

const PinsFile = Type.Object({
  version: Type.Literal(1),
  devices: Type.Record(Type.String(), Pin),
});

export type Pin = Static<typeof Pin>;
type PinsFile = Static<typeof PinsFile>;
const check = validator(PinsFile);

/** What a presented certificate is to the store. */
export type PinVerdict =
  { ok: true; firstUse: boolean } | { ok: false; pinned: string; presented: string };

export class PinStore {
  readonly #dir: string;
  readonly #log: Logger;
  #pins = new Map<string, Pin>();
  /** The fingerprint each device presented and was refused for, last seen. */
  readonly #refused = new Map<string, string>();

  constructor(dir: string, log: Logger) {
    this.#dir = dir;
    this.#log = log;
  }

  get path(): string {
    return join(this.#dir, PINS_FILE);
  }

  /** Reads the file; a missing file is no pin yet, a damaged one is said and set aside. */
  load(): void {
    this.#pins = new Map(Object.entries(this.#read()));
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
    if (pin && pin.fingerprint !== presented) {
      // `vigil agent trust` may have accepted it since: the file is the truth it wrote.
      const onDisk = this.#read()[deviceId];
      if (onDisk && onDisk.since > pin.since) {
        this.#pins.set(deviceId, onDisk);
        pin = onDisk;
        this.#log.info(
          `device ${deviceId}: HTTPS certificate ${onDisk.fingerprint} accepted on the gateway (${onDisk.history.at(-1)?.by ?? 'vigil agent trust'})`,
        );
      }
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
   * The pins on disk. A damaged file (a disk error, a hand edit) is set aside as
   * `tls-pins.json.corrupt` with a warning, and the devices are pinned again on their next
   * connection, as a new gateway would be; the warning says to compare the fingerprints.
   */
  #read(): Record<string, Pin> {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.#log.warn(
          `cannot read ${this.path} (${(error as Error).message}); HTTPS devices are pinned again on their next connection`,
        );
      }
      return {};
    }
    let problem: string;
    try {
      const result = check(JSON.parse(text));
      if (result.ok) return result.value.devices;
      problem = result.errors.slice(0, 3).join('; ');
    } catch (error) {
      problem = (error as Error).message;
    }
    const aside = `${this.path}.corrupt`;
    try {
      renameSync(this.path, aside);
    } catch {
      // Already gone: nothing to set aside.
    }
    this.#log.warn(
      `${this.path} is damaged (${problem}); set aside as ${aside}. HTTPS devices are pinned ` +
        'again on their next connection: compare the fingerprints in this log with the devices',
    );
    return {};
  }

  /**
   * Writes the pins, merged with what is newer on disk (the CLI's acceptances). Pins are
   * rare (first contact, an operator's acceptance), so the write is synchronous: it is
   * durable before the first request goes to a freshly pinned device.
   */
  #save(): void {
    const onDisk = this.#read();
    for (const [id, pin] of Object.entries(onDisk)) {
      const mine = this.#pins.get(id);
      if (!mine || pin.since > mine.since) this.#pins.set(id, pin);
    }
    const content: PinsFile = { version: 1, devices: Object.fromEntries(this.#pins) };
    try {
      mkdirSync(this.#dir, { recursive: true });
      const tmp = `${this.path}.${process.pid}.tmp`;
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, JSON.stringify(content, null, 1));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.path);
      // The rename is durable only once the folder is synced (POSIX fsync).
      const dir = openSync(this.#dir, 'r');
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    } catch (error) {
      this.#log.warn(
        `cannot save the HTTPS pins to ${this.path} (${(error as Error).message}); they hold until a restart: check the data folder is writable`,
      );
    }
  }
}
