/**
 * What a test needs from the machine beyond node_modules: Debian's influxd, onvif-util,
 * Mosquitto, Chromium, docker-compose, `ip netns` (root), and the built dist/. A developer
 * without one sees the tests that need it skipped, with the reason in their title; in CI
 * (`CI` set: .ci/run installs all of them and runs as root) a missing one fails the run
 * instead, since a skipped test passes CI while testing nothing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { vigilEntry } from './demo.js';
import { INFLUXD } from './influxd.js';

export interface Requirement {
  /** What is wrong, with what to do about it; null when the machine has it. */
  problem(): string | null;
}

/** CI=1 (.ci/run) or CI=true (most CI services); CI=0 or CI=false count as unset. */
export const inCi = !['', '0', 'false'].includes((process.env.CI ?? '').toLowerCase());

function program(path: string, debianPackage: string): Requirement {
  const name = path.split('/').at(-1) ?? path;
  return {
    problem: () =>
      existsSync(path)
        ? null
        : `${name} not found at ${path}: install the Debian package ${debianPackage} (.ci/run does)`,
  };
}

function onPath(name: string, debianPackage: string): Requirement {
  return {
    problem: () =>
      spawnSync('which', [name]).status === 0
        ? null
        : `${name} not found on PATH: install the Debian package ${debianPackage} (.ci/run does)`,
  };
}

export const influxd = program(INFLUXD, 'influxdb');
export const mosquitto = program('/usr/sbin/mosquitto', 'mosquitto');
/** Debian's chromium, or the one CHROMIUM_PATH names. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const chromium = program(CHROMIUM, 'chromium');
export const onvifUtil = onPath('onvif-util', 'onvif-tools');
export const dockerCompose = onPath('docker-compose', 'docker-compose');
/** An HTTP and RTSP client with its own Digest and Basic (independent of ours). */
export const curl = onPath('curl', 'curl');
/** Reads a PDF's text back (an issued report's PDF, issue 16 part 4). */
export const pdftotext = onPath('pdftotext', 'poppler-utils');

/** The CLI the end-to-end tests start as processes. */
export const built: Requirement = {
  problem: () =>
    existsSync(vigilEntry) ? null : `${vigilEntry} is missing: run npm run build (npm test does)`,
};

/** Root, for what only root may do (mount a small tmpfs to fill a disk). */
export const root: Requirement = {
  problem: () =>
    userInfo().uid === 0
      ? null
      : 'not run as root, which mounting a tmpfs needs (.ci/run runs as root)',
};

/** A network namespace of our own (ip netns: iproute2, and root to make one). */
export const netns: Requirement = {
  problem: () => {
    const probe = `vigilprobe${process.pid % 100_000}`;
    const added = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
    if (added.status !== 0) {
      const why = added.error ? String(added.error) : added.stderr.trim();
      return `\`ip netns add\` failed (${why}): run as root with the Debian package iproute2 (.ci/run does)`;
    }
    spawnSync('ip', ['netns', 'del', probe]);
    return null;
  },
};

function problems(requirements: Requirement[]): string | null {
  const found = requirements.map((r) => r.problem()).filter((p): p is string => p !== null);
  return found.length > 0 ? found.join('; ') : null;
}

/**
 * Why tests needing `requirements` cannot run here (for describe.skipIf and the title),
 * or null when they can. In CI a missing requirement throws instead, failing the file.
 */
export function skipReason(...requirements: Requirement[]): string | null {
  const reason = problems(requirements);
  if (reason && inCi) throw new Error(reason);
  return reason;
}

/** A describe title that tells why it was skipped, when it was. */
export function titled(title: string, reason: string | null): string {
  return reason ? `${title} (skipped: ${reason})` : title;
}

/** For tests that never skip: throws what is missing and what to do. */
export function need(...requirements: Requirement[]): void {
  const reason = problems(requirements);
  if (reason) throw new Error(reason);
}
