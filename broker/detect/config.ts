/**
 * Settings of detection (broker config `detect:`), each with the default the issue and
 * the contract give. Times in seconds unless named otherwise.
 */
export interface DetectConfig {
  /**
   * A camera failing while a site-wide event may be forming waits this long before its
   * ticket opens, so that the event (a switch, a power cut) is seen whole and gets one
   * ticket, not one per camera. Only then: see `holdFromShare`.
   */
  holdS: number;
  /**
   * The hold applies once the site's recent camera failures (within `massWindowS`, this
   * one included) reach this share of the mass-outage threshold (max(`massMinDevices`,
   * `massShare` x cameras)). Below it, a ticket opens at once; if the event then reaches
   * the threshold, the tickets opened first are folded into the site ticket, so a
   * site-wide event still ends as one open ticket. 0 holds every companion failure.
   * Measured by bench:detect (40 of 100 cameras failing 1.5 s apart, ~25 down at a time
   * because the agent backs off polling down devices): at 0.5 the broker's part of
   * failure-to-ticket stayed 2.0 s p50 (held); at 0.8 it is 0.00 s p50, 2.0 s p95.
   */
  holdFromShare: number;
  /** Agent liveness: no message from an agent for this long means it is gone (3 health intervals). */
  heartbeatTimeoutS: number;
  /** Share of a site's cameras that, failing within `massWindowS`, make one site ticket. */
  massShare: number;
  massWindowS: number;
  /** At least this many cameras for a site ticket (a site of two cameras is not "mass"). */
  massMinDevices: number;
  /** Flapping: `flapFailures` failures within `flapWindowMin` minutes. */
  flapFailures: number;
  flapWindowMin: number;
  /** Gateway resources low at or above these shares (%). */
  gatewayMemPct: number;
  gatewayDiskPct: number;
  gatewayCpuPct: number;
  /** ... the CPU only after this many health messages in a row at or above it. */
  gatewayCpuReports: number;
  /**
   * The gateway's temperature (AgentHealth `gateway.temperatureC`, degrees Celsius) at or
   * above this is a problem; a gateway that reports none (many x86 boxes have no sensor
   * the agent finds) never is.
   */
  gatewayTempC: number;
  /** ... and stays one until the temperature is this many degrees below `gatewayTempC`. */
  gatewayTempHysteresisC: number;
  /** How often held and suppressed faults, heartbeats and SLA clocks are checked, ms. */
  tickMs: number;
}

export const defaultDetectConfig: DetectConfig = {
  holdS: 2,
  holdFromShare: 0.8,
  heartbeatTimeoutS: 90,
  massShare: 0.3,
  massWindowS: 60,
  massMinDevices: 3,
  flapFailures: 3,
  flapWindowMin: 60,
  gatewayMemPct: 95,
  gatewayDiskPct: 95,
  // The agent's CPU load is the whole machine's share (0-100 %, agent/gateway.ts), not per core.
  gatewayCpuPct: 98,
  gatewayCpuReports: 3,
  // 80 °C, early enough for a visit before a fanless gateway slows down or stops. The
  // Raspberry Pi firmware throttles its cores from 80 °C and holds the SoC at 85 °C
  // (raspberrypi/documentation, frequency-management.adoc); Linux's device trees for
  // Rockchip SoCs common in Chinese industrial gateways throttle at 85 °C (px30.dtsi,
  // trip-point-1 "target") or from 70 and 75 °C with a forced shutdown at 95 °C (RK3568,
  // rk356x.dtsi). At 80 such a box is at or near throttling and some 15 °C from shutdown.
  gatewayTempC: 80,
  // The kernel's trips above use 2 °C, judged every 0.1 to 1 s while cooling acts; ours is
  // one reading per health message (30 s) of a temperature that follows the load, so a
  // gateway hovering at the limit would open and resolve a ticket every minute with 2.
  gatewayTempHysteresisC: 5,
  tickMs: 1000,
};
