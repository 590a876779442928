/**
 * The site gateway's temperature, as the simulator plays it: a file in the format of a
 * Linux thermal zone's `temp` (millidegrees Celsius as text, kernel Documentation/ABI/
 * testing/sysfs-class-thermal), which the agent reads when its config names it
 * (`gateway.temperatureFile`). The `gateway-hot` fault of the control API heats it; clearing
 * the fault cools it back to a gateway's ordinary temperature.
 *
 *   const gateway = new SimGateway('/tmp/demo/gateway-temperature');
 *   await gateway.start();                 // writes 45 °C
 *   await gateway.setFault({ kind: 'gateway-hot', temperatureC: 92 });
 *   await gateway.clearFaults();           // 45 °C again
 */
import { rename, writeFile } from 'node:fs/promises';
import type { SimGateway as SimGatewayInfo, SimGatewayFault } from '../shared/api/sim.js';

/** A fanless gateway idling in a ventilated cabinet. */
export const GATEWAY_NORMAL_C = 45;
/** The `gateway-hot` fault without a temperature: past where gateways throttle (85 °C). */
export const GATEWAY_HOT_C = 92;

export class SimGateway {
  readonly temperatureFile: string;
  #fault: SimGatewayFault | null = null;
  #timer: NodeJS.Timeout | null = null;
  /** Writes one after the other, so the file ends with the latest temperature. */
  #writing: Promise<void> = Promise.resolve();

  constructor(temperatureFile: string) {
    this.temperatureFile = temperatureFile;
  }

  /** Writes the ordinary temperature, so the agent has a reading from its first sample. */
  start(): Promise<void> {
    return this.#write();
  }

  stop(): void {
    this.#clearTimer();
  }

  get temperatureC(): number {
    return this.#fault ? (this.#fault.temperatureC ?? GATEWAY_HOT_C) : GATEWAY_NORMAL_C;
  }

  info(): SimGatewayInfo {
    return {
      temperatureFile: this.temperatureFile,
      temperatureC: this.temperatureC,
      faults: this.#fault ? [this.#fault] : [],
    };
  }

  /** Heats the gateway (replacing an earlier heat); resolves once the file says so. */
  async setFault(fault: SimGatewayFault): Promise<SimGatewayInfo> {
    this.#clearTimer();
    this.#fault = fault;
    if (fault.durationS !== undefined) {
      const timer = setTimeout(() => {
        this.#timer = null;
        this.clearFaults().catch((error: unknown) => {
          console.error('sim: cooling the gateway down failed:', error);
        });
      }, fault.durationS * 1000);
      timer.unref();
      this.#timer = timer;
    }
    await this.#write();
    return this.info();
  }

  /** Cools the gateway down to its ordinary temperature. */
  async clearFaults(): Promise<SimGatewayInfo> {
    this.#clearTimer();
    this.#fault = null;
    await this.#write();
    return this.info();
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /**
   * Through a temporary file and a rename, so the agent never reads a half-written number
   * (the kernel's own file is never half written either).
   */
  #write(): Promise<void> {
    const text = `${Math.round(this.temperatureC * 1000)}\n`;
    const temporary = `${this.temperatureFile}.tmp`;
    this.#writing = this.#writing
      .catch(() => undefined)
      .then(async () => {
        await writeFile(temporary, text);
        await rename(temporary, this.temperatureFile);
      });
    return this.#writing;
  }
}
