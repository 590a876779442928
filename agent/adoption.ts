/**
 * What the agent does with the devices WS-Discovery finds (ONVIF Core 7.3), beside the
 * configured list. A device is "configured" when its service address matches a configured
 * XAddr; every other one is either adopted (`auto`: polled with the site's default ONVIF
 * account) or kept pending (`approve`: listed in the birth for the NOC, never polled).
 *
 * The id of a discovered device comes from its WS-Addressing endpoint reference, which a
 * device keeps across reboots and address changes (WS-Discovery 2005/04 section 2.6; ONVIF
 * devices derive it from their MAC or serial), so an adopted camera whose DHCP lease
 * changed keeps its id, its history and its tickets.
 */
import { createHash } from 'node:crypto';
import type { DiscoveredDevice as DiscoveredMessage } from '../shared/messages/agent-status.js';
import type { DeviceConfig, DiscoveryConfig, VendorAccount } from './config.js';
import type { DiscoveredFile, SavedDevice } from './discovered-store.js';
import type { DiscoveredDevice } from './onvif/discovery.js';
import type { Secret } from './secret.js';

const UUID =
  /^(?:urn:uuid:|uuid:)?([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})$/i;

/** `onvif-` and the 32 hex digits of the endpoint's UUID (a hash when it is not a UUID). */
export function discoveredId(device: Pick<DiscoveredDevice, 'endpoint' | 'xaddr'>): string {
  const match = UUID.exec(device.endpoint.trim());
  const hex = match
    ? match.slice(1).join('').toLowerCase()
    : createHash('sha1')
        .update(device.endpoint || device.xaddr)
        .digest('hex')
        .slice(0, 32);
  return `onvif-${hex}`;
}

/** Profile G or the Network_Video_Storage type scope mark a recorder (ONVIF Core 7.3.2.2). */
export function discoveredKind(device: Pick<DiscoveredDevice, 'scopes'>): 'camera' | 'nvr' {
  return device.scopes.some((s) =>
    /^onvif:\/\/www\.onvif\.org\/(Profile\/G|type\/Network_?Video_?Storage)$/i.test(s),
  )
    ? 'nvr'
    : 'camera';
}

/** Host, port and path, so `http://H/onvif/device_service` matches `http://H:80/...`. */
export function sameAddress(a: string, b: string): boolean {
  const key = (x: string): string => {
    try {
      const url = new URL(x);
      return `${url.hostname.toLowerCase()}:${url.port || '80'}${url.pathname.replace(/\/+$/, '')}`;
    } catch {
      return x;
    }
  };
  return key(a) === key(b);
}

interface Seen {
  device: DiscoveredDevice;
  id: string;
  firstSeenAt: Date;
  lastSeenAt: Date;
}

export class Adoption {
  /** By id; adopted devices stay, across restarts too (`DiscoveredStore`): a camera that
   * stops answering discovery is down, which is what the NOC must see, not gone. */
  readonly #adopted = new Map<string, Seen>();
  /** By id; the last probe's unconfigured devices in `approve` mode. */
  #pending = new Map<string, Seen>();

  /**
   * Takes one probe's answers. Returns whether what the agent polls or reports changed
   * (`devices`: the adopted list; `pending`: the list waiting for approval).
   */
  update(
    found: readonly DiscoveredDevice[],
    configured: readonly DeviceConfig[],
    mode: DiscoveryConfig['adopt'],
    now = new Date(),
  ): { devices: boolean; pending: boolean } {
    const fresh = found.filter(
      (d) => /^http:\/\//.test(d.xaddr) && !configured.some((c) => sameAddress(c.xaddr, d.xaddr)),
    );
    const configuredIds = new Set(configured.map((c) => c.id));
    let devices = false;
    const pending = new Map<string, Seen>();
    for (const device of fresh) {
      const id = discoveredId(device);
      if (configuredIds.has(id)) continue;
      if (mode === 'auto') {
        const known = this.#adopted.get(id);
        if (!known || known.device.xaddr !== device.xaddr) devices = true;
        this.#adopted.set(id, {
          device,
          id,
          firstSeenAt: known?.firstSeenAt ?? now,
          lastSeenAt: now,
        });
      } else {
        const known = this.#pending.get(id);
        pending.set(id, { device, id, firstSeenAt: known?.firstSeenAt ?? now, lastSeenAt: now });
      }
    }
    // A device configured since it was adopted is the configured one now.
    for (const id of this.#adopted.keys()) {
      const seen = this.#adopted.get(id);
      if (
        mode !== 'auto' ||
        configuredIds.has(id) ||
        (seen && configured.some((c) => sameAddress(c.xaddr, seen.device.xaddr)))
      ) {
        this.#adopted.delete(id);
        devices = true;
      }
    }
    const before = [...this.#pending.keys()].sort().join();
    this.#pending = pending;
    return { devices, pending: before !== [...pending.keys()].sort().join() };
  }

  /** Both lists as `DiscoveredStore` saves them. */
  saved(): DiscoveredFile {
    const out = ({ device, id, firstSeenAt, lastSeenAt }: Seen): SavedDevice => ({
      id,
      device,
      firstSeenAt: firstSeenAt.toISOString(),
      lastSeenAt: lastSeenAt.toISOString(),
    });
    return {
      version: 1,
      adopted: [...this.#adopted.values()].map(out),
      pending: [...this.#pending.values()].map(out),
    };
  }

  /**
   * Takes back what a previous run saved, before the first probe: adopted devices are
   * polled at once, answering the Probe or not. Those configured since then are left out
   * (the configured entry is the device now), as are adopted ones in `approve` mode.
   */
  restore(
    saved: DiscoveredFile,
    configured: readonly DeviceConfig[],
    mode: DiscoveryConfig['adopt'],
  ): void {
    const configuredIds = new Set(configured.map((c) => c.id));
    const keep = (s: SavedDevice): boolean =>
      !configuredIds.has(s.id) && !configured.some((c) => sameAddress(c.xaddr, s.device.xaddr));
    const seen = (s: SavedDevice): [string, Seen] => [
      s.id,
      {
        id: s.id,
        device: s.device,
        firstSeenAt: new Date(s.firstSeenAt),
        lastSeenAt: new Date(s.lastSeenAt),
      },
    ];
    this.#adopted.clear();
    if (mode === 'auto')
      for (const [id, s] of saved.adopted.filter(keep).map(seen)) this.#adopted.set(id, s);
    this.#pending = new Map(mode === 'approve' ? saved.pending.filter(keep).map(seen) : []);
  }

  /**
   * Adopted devices as configured ones, with the site's default account (and its default
   * vendor API account, `vendor:`, when the config has one).
   */
  adopted(account: { username: string; password: Secret }, vendor?: VendorAccount): DeviceConfig[] {
    return [...this.#adopted.values()].map(({ device, id }) => ({
      id,
      name: (device.name ?? device.hardware ?? id).slice(0, 200),
      kind: discoveredKind(device),
      xaddr: device.xaddr,
      username: account.username,
      password: account.password,
      ...(vendor ? { vendor } : {}),
    }));
  }

  /** Devices waiting for the NOC's approval, for the birth message. */
  pending(): DiscoveredMessage[] {
    return [...this.#pending.values()].map(({ device, id, firstSeenAt, lastSeenAt }) => ({
      endpoint: device.endpoint.slice(0, 200),
      xaddr: device.xaddr,
      suggestedId: id,
      name: device.name?.slice(0, 200) ?? null,
      hardware: device.hardware?.slice(0, 200) ?? null,
      kind: discoveredKind(device),
      firstSeenAt: firstSeenAt.toISOString(),
      lastSeenAt: lastSeenAt.toISOString(),
    }));
  }
}
