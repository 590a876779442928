/**
 * Settings of detection (broker config `detect:`), each with the default the issue and
 * the contract give. Times in seconds unless named otherwise.
 */
export interface DetectConfig {
  /**
   * A camera failing within `massWindowS` of another failure at its site waits this long
   * before its ticket opens, so that a site-wide event (a switch, a power cut) is seen
   * whole and gets one ticket, not one per camera. An isolated failure does not wait.
   */
  holdS: number;
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
  /** How often held and suppressed faults, heartbeats and SLA clocks are checked, ms. */
  tickMs: number;
}

export const defaultDetectConfig: DetectConfig = {
  holdS: 2,
  heartbeatTimeoutS: 90,
  massShare: 0.3,
  massWindowS: 60,
  massMinDevices: 3,
  flapFailures: 3,
  flapWindowMin: 60,
  gatewayMemPct: 95,
  gatewayDiskPct: 95,
  gatewayCpuPct: 400,
  tickMs: 1000,
};
