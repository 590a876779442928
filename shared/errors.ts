/**
 * Every coded error a user can meet, in one registry (the fastify habit). Each entry
 * says what happened and what to do about it; a test checks that every code is
 * documented in docs/ERRORS.md.
 */
export const errorCodes = {
  VIGIL_CONFIG_INVALID: 'The configuration file has errors; fix every listed path and start again.',
  VIGIL_CONFIG_UNREADABLE:
    'The configuration file cannot be read; check the path and its permissions.',
  VIGIL_AUTH_REQUIRED: 'Log in first: send "Authorization: Bearer <token>" or the session cookie.',
  VIGIL_AUTH_FAILED: 'Wrong username or password.',
  VIGIL_INTERNAL:
    'Something failed inside Vigil; the broker log has the details. Retry, and report it if it persists.',
  VIGIL_NOT_FOUND: 'No such resource; check the id in the URL.',
  VIGIL_BAD_REQUEST: 'The request does not match its schema; see the listed fields.',
  VIGIL_MQTT_BAD_CREDENTIALS:
    'The broker refused the agent: wrong username or password. Create credentials with `vigil broker add-agent --site SITE` and put them in the agent config.',
  VIGIL_MQTT_NOT_AUTHORIZED:
    "The broker refused a publish or subscribe outside the client's own topics.",
  VIGIL_MESSAGE_INVALID:
    'A message did not match its schema; it was kept in the dead-letter store.',
  VIGIL_ONVIF_UNREACHABLE:
    'The device refused the connection or has no route; check power, cabling and its address.',
  VIGIL_ONVIF_TIMEOUT:
    'The device did not answer in time; check it is not hung and the network is not congested.',
  VIGIL_ONVIF_AUTH:
    'The device rejected the credentials (NotAuthorized); update the password in the agent config or secrets file.',
  VIGIL_ONVIF_PROTOCOL:
    'The device answered something that is not valid ONVIF SOAP; check its firmware.',
  VIGIL_SIM_FAILED:
    'The simulator could not apply the change, often because another program took a device port while it was offline; free the port or restart the simulator.',
  VIGIL_METRICS_STORE_DOWN:
    'The metrics store (InfluxDB) cannot be reached; readings wait and are retried.',
} as const;

export type ErrorCode = keyof typeof errorCodes;

export class VigilError extends Error {
  readonly code: ErrorCode;
  readonly details: string[];

  constructor(code: ErrorCode, message?: string, details: string[] = []) {
    super(message ?? errorCodes[code]);
    this.name = 'VigilError';
    this.code = code;
    this.details = details;
  }

  /** One block of text for a terminal: what is wrong, every detail, what to do. */
  describe(): string {
    const lines = [`${this.code}: ${this.message}`, ...this.details.map((d) => `  - ${d}`)];
    if (this.message !== errorCodes[this.code]) lines.push(errorCodes[this.code]);
    return lines.join('\n');
  }
}
