/**
 * Device personalities: named sets of the real-world quirks listed in
 * docs/ONVIF.md, so the agent is tested against devices that bend the standard
 * the way installed ones do. A quirk changes an answer's shape, never its meaning.
 */
import type { HttpAuthPolicy } from './http-auth.js';
import { NS } from './soap/namespaces.js';

export interface Quirks {
  /** xs:dateTime values written as 2026-11-26-01:02:03Z (date and time joined by '-'). */
  hyphenatedDateTimes: boolean;
  /** xs:dateTime values without a zone (2026-11-26T01:02:03). */
  zonelessDateTimes: boolean;
  /** Video encoder configurations without Resolution and RateControl (some NVRs). */
  encoderWithoutResolution: boolean;
  /** Leaf elements repeat an xmlns declaration (`<tt:Model xmlns:tt="...">`). */
  xmlnsOnLeaves: boolean;
  /** GetRecordingSummary and recordings say DataFrom 1970-01-01T00:00:00Z. */
  epochDataFrom: boolean;
  /** NotAuthorized is answered with HTTP 401 (and a Digest challenge) instead of 400. */
  unauthorized401: boolean;
  /** The XML declaration says encoding="utf-16" although the bytes are UTF-8. */
  utf16Declaration: boolean;
  /** Answers are sent chunked, without Content-Length. */
  noContentLength: boolean;
  /** GetServices is ActionNotSupported: clients must fall back to GetCapabilities. */
  noGetServices: boolean;
  /**
   * What RTSP DESCRIBE demands (sim/http-auth.ts). Real cameras refuse a DESCRIBE without
   * credentials; most offer Digest without qop (RFC 2617, Hikvision, Dahua).
   */
  rtspAuth: HttpAuthPolicy;
  /** What a snapshot GET demands: HTTP Digest with qop=auth (RFC 7616) on most firmware. */
  snapshotAuth: HttpAuthPolicy;
  /**
   * SOAP operations that need a user also need HTTP authentication: a UsernameToken alone
   * gets 401 and a challenge (ONVIF Core 5.12.1 lets a device ask for HTTP Digest); with
   * it, the UsernameToken is checked too. Null: the UsernameToken is enough.
   */
  soapHttpAuth: HttpAuthPolicy | null;
  /**
   * With soapHttpAuth: the 401 for missing HTTP authentication comes after the device read
   * the UsernameToken and used up its nonce (WS-Security UsernameToken Profile 1.0 section
   * 3.1: a nonce is accepted once), so a client that resends the same envelope with its
   * Digest is refused as a replay and must sign a fresh token. Others answer the 401 from
   * their web server before the SOAP layer sees the token (agsh/onvif relies on that).
   */
  tokenNonceUsedOn401: boolean;
  /**
   * The vendor's own HTTP API the device serves beside ONVIF, on the same port and account
   * (sim/vendor/): Hikvision ISAPI or Dahua CGI; null: ONVIF only. It also makes the
   * device say it is that vendor's (GetDeviceInformation, the API's own device info).
   */
  vendorApi: 'isapi' | 'dahua-cgi' | null;
}

const rtspDigest: HttpAuthPolicy = { offer: ['digest'], algorithm: 'MD5', qop: false };
const httpDigest: HttpAuthPolicy = { offer: ['digest'], algorithm: 'MD5', qop: true };
const httpDigestSha256: HttpAuthPolicy = { offer: ['digest'], algorithm: 'SHA-256', qop: true };
/**
 * The nonce lifetime of hardened-camera: shorter than any poll interval (15 s and up), so
 * every poll's first request with a kept Digest meets a stale nonce. RFC 7616 section 3.3
 * leaves the lifetime to the server (even one request per nonce), so a client must follow
 * stale=true at any lifetime; this figure is ours, not a vendor's.
 */
const HARDENED_NONCE_S = 10;

export const noQuirks: Readonly<Quirks> = {
  hyphenatedDateTimes: false,
  zonelessDateTimes: false,
  encoderWithoutResolution: false,
  xmlnsOnLeaves: false,
  epochDataFrom: false,
  unauthorized401: false,
  utf16Declaration: false,
  noContentLength: false,
  noGetServices: false,
  rtspAuth: rtspDigest,
  snapshotAuth: httpDigest,
  soapHttpAuth: null,
  tokenNonceUsedOn401: false,
  vendorApi: null,
};

/** Personalities by name; a site file picks one per device group. */
export const personalities: Record<string, Readonly<Quirks>> = {
  /** By the book. */
  standard: noQuirks,
  /**
   * An old camera firmware: no GetServices, zone-less date-times, 401, xmlns on leaves;
   * RTSP and snapshots take Basic only.
   */
  'legacy-camera': {
    ...noQuirks,
    noGetServices: true,
    zonelessDateTimes: true,
    unauthorized401: true,
    xmlnsOnLeaves: true,
    rtspAuth: { ...rtspDigest, offer: ['basic'] },
    snapshotAuth: { ...httpDigest, offer: ['basic'] },
  },
  /**
   * A budget NVR: encoder configurations without Resolution, DataFrom 1970, hyphenated
   * times; RTSP and snapshots offer Basic and Digest together.
   */
  'budget-nvr': {
    ...noQuirks,
    encoderWithoutResolution: true,
    epochDataFrom: true,
    hyphenatedDateTimes: true,
    rtspAuth: { ...rtspDigest, offer: ['basic', 'digest'] },
    snapshotAuth: { ...httpDigest, offer: ['basic', 'digest'] },
  },
  /** An encoder whose web server declares utf-16, streams answers chunked, wants SHA-256. */
  'odd-encoder': {
    ...noQuirks,
    utf16Declaration: true,
    noContentLength: true,
    snapshotAuth: httpDigestSha256,
  },
  /**
   * A camera that wants HTTP Digest on SOAP (and the UsernameToken beside it), SHA-256
   * on snapshots, as some current firmware with "digest only" security settings.
   */
  'digest-only': {
    ...noQuirks,
    soapHttpAuth: httpDigest,
    snapshotAuth: httpDigestSha256,
  },
  /**
   * The strictest camera: HTTP Digest on SOAP as digest-only, but the UsernameToken is read
   * (its nonce used up) before the 401, so a retry must sign a new token; Digest offers
   * qop="auth,auth-int" (a client picks auth, or digests the body); every nonce is good
   * for HARDENED_NONCE_S seconds only, so a client that keeps its Digest between polls meets
   * stale=true and must take the fresh nonce.
   */
  'hardened-camera': {
    ...noQuirks,
    rtspAuth: { ...rtspDigest, nonceLifetimeS: HARDENED_NONCE_S },
    soapHttpAuth: { ...httpDigest, authInt: true, nonceLifetimeS: HARDENED_NONCE_S },
    snapshotAuth: { ...httpDigestSha256, authInt: true, nonceLifetimeS: HARDENED_NONCE_S },
    tokenNonceUsedOn401: true,
  },
  /**
   * A Hikvision NVR: "HIKVISION" in GetDeviceInformation, a DS-76xxNI model and serial,
   * and ISAPI (/ISAPI/...) behind HTTP Digest as its web server asks for it: disks, IP
   * channels online or not, status (sim/vendor/hikvision.ts). RTSP Digest without qop and
   * snapshots Digest qop=auth, as standard.
   */
  'hikvision-nvr': { ...noQuirks, vendorApi: 'isapi' },
  /**
   * A Dahua NVR: "Dahua" in GetDeviceInformation, a DHI-NVR model and a 15-character serial,
   * and the CGI API (/cgi-bin/...) behind HTTP Digest, realm "Login to <serial>": disks,
   * system info, camera states (sim/vendor/dahua.ts).
   */
  'dahua-nvr': { ...noQuirks, vendorApi: 'dahua-cgi' },
};

export const personalityNames = Object.keys(personalities);

export function quirksOf(personality: string): Quirks {
  return { ...(personalities[personality] ?? noQuirks) };
}

/** xs:dateTime of a device clock instant, as this personality writes it. */
export function formatDateTime(ms: number, quirks: Quirks): string {
  const iso = new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (quirks.hyphenatedDateTimes) return iso.replace('T', '-');
  if (quirks.zonelessDateTimes) return iso.slice(0, -1);
  return iso;
}

const prefixNamespaces: Record<string, string> = {
  tds: NS.tds,
  trt: NS.trt,
  tt: NS.tt,
  tev: NS.tev,
  trc: NS.trc,
  tse: NS.tse,
};

/** Applies the quirks that rewrite a finished answer. */
export function quirkyXml(xml: string, quirks: Quirks): string {
  let out = xml;
  if (quirks.xmlnsOnLeaves) {
    // A leaf is an element with text and no child: <p:Name>text</p:Name>.
    out = out.replace(
      /<(tds|trt|tt|tev|trc|tse):(\w+)>([^<]*)<\/\1:\2>/g,
      (_m, prefix: string, name: string, text: string) =>
        `<${prefix}:${name} xmlns:${prefix}="${prefixNamespaces[prefix]}">${text}</${prefix}:${name}>`,
    );
  }
  if (quirks.utf16Declaration) out = out.replace('encoding="UTF-8"', 'encoding="utf-16"');
  return out;
}
