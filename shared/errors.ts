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
  VIGIL_AUTH_LOCKED:
    'Too many wrong passwords from your address: logins are refused from it for a while. Wait until the time the answer names, or ask an admin to lift the lock.',
  VIGIL_INTERNAL:
    'Something failed inside Vigil; the broker log has the details. Retry, and report it if it persists.',
  VIGIL_NOT_FOUND: 'No such resource; check the id in the URL.',
  VIGIL_FORBIDDEN: 'Your role does not allow this; ask an admin for the operator or admin role.',
  VIGIL_CONFLICT:
    'The ticket or window is not in a state that allows this step; reload it and take the step the answer names.',
  VIGIL_BAD_REQUEST: 'The request does not match its schema; see the listed fields.',
  VIGIL_REPORT_PRINT_FAILED:
    'The broker could not print the report to PDF with chromium; install it (apt-get install chromium fonts-wqy-microhei) or set reports.chromiumPath in broker.yaml, then issue the report again.',
  VIGIL_MQTT_BAD_CREDENTIALS:
    'The broker refused the agent: wrong username or password. Create credentials with `vigil broker add-agent --site SITE` and put them in the agent config.',
  VIGIL_MQTT_NOT_AUTHORIZED:
    "The broker refused a publish or subscribe outside the client's own topics.",
  VIGIL_MQTT_PACKET_TOO_LARGE:
    'The broker closed a connection whose packet announced more bytes than mqtt.limits allows, before reading it; send smaller messages or raise mqtt.limits.maxPayloadBytes.',
  VIGIL_MQTT_CLIENT_CERT:
    "The broker's TLS listener requires a client certificate signed by its agents' CA (mqtt.tls.requireClientCert); put one (mqtt.cert, mqtt.key) in the agent config.",
  VIGIL_MQTT_SERVER_CERT:
    "The agent cannot trust the broker's TLS certificate; give the CA that signed it as mqtt.ca in the agent config.",
  VIGIL_MESSAGE_INVALID:
    'A message did not match its schema; it was kept in the dead-letter store.',
  VIGIL_AGENT_NO_ANSWER:
    'The agent did not answer the command in time; if it is offline, the command runs when it reconnects.',
  VIGIL_SPOOL_WRITE:
    "The agent could not write to its spool on disk; messages are kept in memory and sent meanwhile (one it could not take at all is lost). Check the data folder's permissions and its disk.",
  VIGIL_SPOOL_DISK_FULL:
    "The gateway's disk that holds the agent's spool is full; messages are kept in memory (bounded, oldest dropped first) and sent while the broker is reachable. Free space on the file system of the agent's dataDir; the agent writes to disk again by itself.",
  VIGIL_ONVIF_UNREACHABLE:
    'The device refused the connection or has no route; check power, cabling and its address.',
  VIGIL_ONVIF_TIMEOUT:
    'The device did not answer in time; check it is not hung and the network is not congested.',
  VIGIL_ONVIF_AUTH:
    'The device rejected the credentials (NotAuthorized, or 401/403 on ONVIF, RTSP or a snapshot); update the password in the agent config or secrets file, or give the account the rights it lacks (media needs live view).',
  VIGIL_ONVIF_PROTOCOL:
    'The device answered something that is not valid ONVIF SOAP; check its firmware.',
  VIGIL_DEVICE_CERT_CHANGED:
    'The HTTPS device presented a certificate other than the one pinned on first contact, so the agent refuses to talk to it. If the device was replaced or its certificate renewed, accept the new one (the device page in the console, or `vigil agent trust DEVICE`); otherwise look for an impostor on the network.',
  VIGIL_DEVICE_CERT_UNTRUSTED:
    "The HTTPS device's certificate does not chain to the CA file of the agent config (tls.caFile); install a certificate signed by that CA on the device, or name the CA that signed it.",
  VIGIL_SIM_FAILED:
    'The simulator could not apply the change, often because another program took a device port while it was offline; free the port or restart the simulator.',
  VIGIL_METRICS_STORE_DOWN:
    'The metrics store (InfluxDB) cannot be reached; readings wait and are retried.',
  VIGIL_JOURNAL_FULL:
    'The broker ingest journal is full, so agents are refused until the metrics store drains it; bring InfluxDB back or raise journal.maxBytes.',
  VIGIL_BACKUP_FAILED:
    'The backup did not complete; the listed reason says what failed. Fix it and run `vigil backup` again into a new folder (docs/BACKUP.md).',
  VIGIL_RESTORE_REFUSED:
    'The restore was refused or failed; every listed reason says what to do (stop the broker, add --force, use another backup). docs/BACKUP.md.',
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
