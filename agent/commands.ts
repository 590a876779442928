/**
 * Remote commands from the NOC (shared/messages/agent-command.ts), received on the agent's
 * commands topic and answered on its responses topic with the same id:
 *   poll-now       poll one device (deviceId) or all now; result: their status after it
 *   rediscover     a WS-Discovery probe; result: what answered, marked known or new
 *   report-config  the configuration in force, without any secret
 *   trust-certificate  accept the HTTPS certificate a device (deviceId) now presents in
 *                  place of its pinned one (`fingerprint`, which must be the one it presents:
 *                  tls-pins.ts); result: the previous and accepted fingerprints, at once;
 *                  the device is polled with the new pin after the answer
 * A command id seen again (QoS 1 may deliver twice, MQTT 3.1.1 section 4.3.2) gets the
 * same answer again without running twice.
 */
import type { AgentCommand } from '../shared/messages/agent-command.js';
import type { AgentConfig } from './config.js';
import type { Logger } from './log.js';
import type { DiscoveredDevice } from './onvif/discovery.js';
import type { ResponseBody } from './uplink.js';

export interface CommandDeps {
  log: Logger;
  config: () => AgentConfig;
  pollNow: (deviceId?: string) => Promise<{ deviceId: string; status: string }[]>;
  discover: () => Promise<DiscoveredDevice[]>;
  /** Service addresses of the devices polled (configured and adopted). */
  known: () => string[];
  respond: (body: ResponseBody) => void;
  /** Pins `fingerprint` for the device in place of the one it had; a poll follows the answer. */
  trust: (
    deviceId: string,
    fingerprint: string,
    by: string,
  ) => Promise<{ deviceId: string; previous: string | null; accepted: string }>;
}

/** The configuration as the NOC may see it: every secret left out. */
export function publicConfig(config: AgentConfig): Record<string, unknown> {
  return {
    siteId: config.siteId,
    agentId: config.agentId,
    dataDir: config.dataDir,
    mqtt: {
      url: config.mqtt.url,
      ...(config.mqtt.urls ? { urls: config.mqtt.urls } : {}),
      username: config.mqtt.username,
      tls: { ca: config.mqtt.ca !== undefined, clientCertificate: config.mqtt.cert !== undefined },
    },
    polling: config.polling,
    spool: config.spool,
    checks: config.checks,
    discovery: config.discovery,
    // How https devices are trusted: a CA file (its presence only), else pinned on first use.
    tls: { ca: config.tls.ca !== undefined },
    devices: config.devices.map(({ id, name, kind, xaddr, username, ca, driver, behind }) => ({
      id,
      name,
      kind,
      xaddr,
      username,
      ...(xaddr.startsWith('https:') ? { tls: ca ? 'ca-file' : 'pinned' } : {}),
      // The vendor driver as configured; absent: chosen from the manufacturer (drivers/).
      ...(driver ? { driver } : {}),
      ...(behind ? { behind } : {}),
    })),
    // Cameras only behind an NVR: not polled, seen through their NVR (behind-nvr.ts).
    behindNvr: config.behindNvr,
  };
}

const REMEMBERED = 100;

export class Commands {
  readonly #deps: CommandDeps;
  readonly #answered = new Map<string, ResponseBody>();

  constructor(deps: CommandDeps) {
    this.#deps = deps;
  }

  async run(command: AgentCommand): Promise<void> {
    const earlier = this.#answered.get(command.id);
    if (earlier) {
      this.#deps.respond(earlier);
      return;
    }
    this.#deps.log.info(
      `NOC command ${command.command}${command.deviceId ? ` ${command.deviceId}` : ''} (id ${command.id}${command.by ? `, by ${command.by}` : ''})`,
    );
    let body: ResponseBody;
    try {
      body = {
        commandId: command.id,
        command: command.command,
        ok: true,
        result: await this.#result(command),
      };
    } catch (error) {
      body = {
        commandId: command.id,
        command: command.command,
        ok: false,
        error: (error instanceof Error ? error.message : String(error)).slice(0, 1000),
      };
    }
    this.#answered.set(command.id, body);
    if (this.#answered.size > REMEMBERED) {
      const oldest = this.#answered.keys().next().value;
      if (oldest !== undefined) this.#answered.delete(oldest);
    }
    this.#deps.respond(body);
  }

  async #result(command: AgentCommand): Promise<Record<string, unknown>> {
    switch (command.command) {
      case 'poll-now':
        return { polled: await this.#deps.pollNow(command.deviceId) };
      case 'rediscover': {
        const known = new Set(this.#deps.known());
        const found = await this.#deps.discover();
        return {
          found: found.map((d) => ({
            xaddr: d.xaddr,
            name: d.name,
            hardware: d.hardware,
            endpoint: d.endpoint,
            known: known.has(d.xaddr),
          })),
        };
      }
      case 'report-config':
        return { config: publicConfig(this.#deps.config()) };
      case 'trust-certificate': {
        if (!command.deviceId || !command.fingerprint) {
          throw new Error(
            'trust-certificate needs deviceId and fingerprint (the SHA-256 fingerprint the device now presents, as its certificate-changed reason names it)',
          );
        }
        return {
          trusted: await this.#deps.trust(
            command.deviceId,
            command.fingerprint,
            command.by ? `noc:${command.by}` : 'noc',
          ),
        };
      }
    }
  }
}
