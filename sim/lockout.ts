/**
 * Account lockout as cameras do it ("illegal login lock", on by default on current
 * Hikvision firmware): after a number of wrong passwords in a row for one user from one
 * address, that user is refused from that address for a while, even with the right
 * password. A monitoring agent that retries a changed password too often locks the very
 * account the site may record with, so the simulator does it too, and the request log and
 * the device list (`lockouts`) show it.
 *
 * The default numbers, and where they come from:
 * - 5 failures: Hikvision camera manuals lock the address after 7 wrong passwords of the
 *   admin and 5 of any other user ("Illegal Login Lock", Configuration > System > Security
 *   > Security Service); installers' notes (learncctv.com "Hikvision device is locked",
 *   Eagle Eye Networks' "Camera Locked - Illegal Login Lock") say 5 in a row. The lower
 *   figure is the stricter and the one the agent must stay under (agent/poll.ts cites it).
 * - locked 30 minutes: the same notes ("blocked for 30 minutes ... wait for 30 minutes or
 *   restart the device"); Hikvision panels default to 10 minutes, so 30 is the stricter.
 * - failures counted within 30 minutes (the brief's conservative window; the manuals say
 *   "continuously" without a time): older ones are forgotten, and a right password starts
 *   the count again, as "in a row" means.
 * - kept in memory: a reboot forgets the locks (the restart the notes recommend).
 *
 * What counts: a wrong username or password (UsernameToken digest, HTTP Digest response,
 * Basic). Not a request without credentials, an expired or unknown nonce, a replay or a
 * token outside the clock window: those are not guesses of the password.
 */

export interface LockoutPolicy {
  /** Wrong passwords in a row, for one user from one address, that lock it. */
  attempts: number;
  /** Failures older than this are forgotten, in seconds. */
  windowS: number;
  /** How long the user stays locked for that address, in seconds. */
  lockS: number;
}

/** See the file's comment for where each figure comes from. */
export const DEFAULT_LOCKOUT: Readonly<LockoutPolicy> = { attempts: 5, windowS: 1800, lockS: 1800 };

/** The lockout of one client address, as an authentication check consults it. */
export interface LoginGate {
  /** Why `username` may not log in from this address now, or null when it may. */
  locked(username: string): string | null;
  /** A wrong password for `username`: counted, and the lock set at the limit. */
  failed(username: string): void;
  /** The right password: the count starts again. */
  succeeded(username: string): void;
}

/** A user locked for one address, as the control API shows it. */
export interface LockedAccount {
  username: string;
  /** The client address the user is locked for. */
  from: string;
  /** ISO 8601: when the lock ends by itself. */
  until: string;
}

/** Entries kept at most: a scan with many usernames must not grow the simulator. */
const MAX_ENTRIES = 1000;

interface Entry {
  username: string;
  from: string;
  /** Times of the recent wrong passwords (ms), oldest first. */
  failures: number[];
  lockedUntil: number | null;
}

/** One device's lockouts; null policy: the device never locks anyone. */
export class Lockout {
  readonly policy: Readonly<LockoutPolicy> | null;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();

  constructor(policy: Readonly<LockoutPolicy> | null, now: () => number = () => Date.now()) {
    this.policy = policy;
    this.#now = now;
  }

  /** The gate for requests from `from` (the client's address). */
  gate(from: string): LoginGate {
    return {
      locked: (username) => this.#lockedReason(username, from),
      failed: (username) => this.#failed(username, from),
      succeeded: (username) => void this.#entries.delete(key(username, from)),
    };
  }

  /** Users locked now, by address. */
  locked(): LockedAccount[] {
    const now = this.#now();
    const out: LockedAccount[] = [];
    for (const entry of this.#entries.values()) {
      if (entry.lockedUntil === null || entry.lockedUntil <= now) continue;
      const until = new Date(entry.lockedUntil).toISOString();
      out.push({ username: entry.username, from: entry.from, until });
    }
    return out;
  }

  /** Forgets every count and lock (a reboot, a reset of the simulator). */
  clear(): void {
    this.#entries.clear();
  }

  #lockedReason(username: string, from: string): string | null {
    const entry = this.#entries.get(key(username, from));
    if (!this.policy || !entry || entry.lockedUntil === null) return null;
    if (entry.lockedUntil <= this.#now()) {
      // The lock ran out: a fresh count.
      this.#entries.delete(key(username, from));
      return null;
    }
    return (
      `user ${username} is locked for ${from} until ${new Date(entry.lockedUntil).toISOString()} ` +
      `after ${this.policy.attempts} wrong passwords (account lockout); even the right password is refused`
    );
  }

  #failed(username: string, from: string): void {
    const policy = this.policy;
    if (!policy) return;
    const now = this.#now();
    const id = key(username, from);
    const entry = this.#entries.get(id) ?? { username, from, failures: [], lockedUntil: null };
    // Re-inserted, so the Map's order is the order of last failure: the oldest go first.
    this.#entries.delete(id);
    if (entry.lockedUntil !== null && entry.lockedUntil > now) {
      // Attempts while locked are refused unread; they do not extend the lock.
      this.#entries.set(id, entry);
      return;
    }
    entry.lockedUntil = null;
    entry.failures = entry.failures.filter((at) => now - at < policy.windowS * 1000);
    entry.failures.push(now);
    if (entry.failures.length >= policy.attempts) {
      entry.lockedUntil = now + policy.lockS * 1000;
      entry.failures = [];
    }
    this.#entries.set(id, entry);
    for (const [oldest] of this.#entries) {
      if (this.#entries.size <= MAX_ENTRIES) break;
      this.#entries.delete(oldest);
    }
  }
}

function key(username: string, from: string): string {
  return `${username}\u0000${from}`;
}
