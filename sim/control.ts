/**
 * The simulator's control API (routes and schemas in shared/api/sim.ts), on plain
 * node:http: a handful of routes do not need a framework. Bodies are checked with the shared
 * validator and every refusal is an ApiError {code, message, details}.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ApiError } from '../shared/api/common.js';
import {
  SimGatewayFault,
  simRoutes,
  type SimDevice as SimDeviceInfo,
  type SimFault,
  type SimFaultKind,
  type SimRequestLogEntry,
} from '../shared/api/sim.js';
import { errorCodes, type ErrorCode } from '../shared/errors.js';
import { validator } from '../shared/validate.js';
import { acceptedFaults, checkFault, faultKinds, isFaultKind } from './faults.js';
import type { SimGateway } from './gateway.js';
import { BodyTooLargeError, readBody } from './soap/http.js';
import { listen } from './listen.js';

/** What the control API drives; SimSite implements it. */
export interface ControlTarget {
  devices(): SimDeviceInfo[];
  device(id: string): SimDeviceInfo | undefined;
  setFault(id: string, fault: SimFault): Promise<SimDeviceInfo>;
  clearFaults(id: string, kind?: SimFaultKind): Promise<SimDeviceInfo>;
  requests(id: string): SimRequestLogEntry[];
  reset(): Promise<SimDeviceInfo[]>;
}

export interface ControlServerOptions {
  host: string;
  port: number;
  target: ControlTarget;
  /** The site gateway's temperature file (`--gateway-temperature-file`); absent: none. */
  gateway?: SimGateway | null;
}

const checkGatewayFault = validator(SimGatewayFault);

const MAX_BODY_BYTES = 64 * 1024;
const devicePath = new RegExp(`^${simRoutes.devices}/([^/]+)(?:/(faults|requests)(?:/([^/]+))?)?$`);

export class ControlServer {
  private readonly options: ControlServerOptions;
  private server: Server | null = null;
  private port = 0;

  constructor(options: ControlServerOptions) {
    this.options = options;
  }

  /** http://HOST:PORT, known after start(). */
  get url(): string {
    const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
    return `http://${host}:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.route(req, res).catch((error: unknown) => {
        console.error('sim: control API request failed:', error);
        if (!res.headersSent) {
          sendJson(res, 500, { code: 'VIGIL_SIM_FAILED', message: describe(error) });
        } else res.destroy();
      });
    });
    const { host, port } = this.options;
    this.port = await listen(
      server,
      host,
      port,
      'control API',
      '--control-port (or SIM_CONTROL_PORT)',
    );
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { target } = this.options;
    const path = new URL(req.url ?? '/', 'http://sim').pathname;
    if (path === simRoutes.devices) {
      if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
      return sendJson(res, 200, target.devices());
    }
    if (path === simRoutes.reset) {
      if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
      return sendJson(res, 200, await target.reset());
    }
    if (path === simRoutes.gateway || path === simRoutes.gatewayFaults) {
      return this.gatewayRoute(path, req, res);
    }
    const match = devicePath.exec(path);
    if (!match || (match[2] !== 'faults' && match[3] !== undefined)) {
      return sendError(res, 404, 'VIGIL_NOT_FOUND', `no route ${path}; see ${simRoutes.devices}`);
    }
    const id = safeDecode(match[1] ?? '');
    const sub = match[2];
    const kind = match[3] === undefined ? undefined : safeDecode(match[3]);
    const allowed =
      sub === undefined || sub === 'requests' ? ['GET'] : kind ? ['DELETE'] : ['POST', 'DELETE'];
    if (!allowed.includes(req.method ?? '')) return methodNotAllowed(res, allowed.join(', '));
    const device = target.device(id);
    if (!device) {
      const known = target.devices().map((d) => d.id);
      return sendError(res, 404, 'VIGIL_NOT_FOUND', `no simulated device "${id}"`, [
        `known devices: ${known.join(', ')}`,
      ]);
    }
    if (sub === undefined) return sendJson(res, 200, device);
    if (sub === 'requests') return sendJson(res, 200, target.requests(id));
    if (kind !== undefined) {
      if (!isFaultKind(kind)) {
        return sendError(res, 404, 'VIGIL_NOT_FOUND', `no fault kind "${kind}"`, [
          `fault kinds: ${faultKinds.join(', ')}`,
        ]);
      }
      return sendJson(res, 200, await target.clearFaults(id, kind));
    }
    if (req.method === 'DELETE') return sendJson(res, 200, await target.clearFaults(id));

    const body = await readJson(req);
    if (!body.ok) return sendError(res, 400, 'VIGIL_BAD_REQUEST', body.message, acceptedList());
    const fault = checkFault(body.value);
    if (!fault.ok) {
      return sendError(
        res,
        400,
        'VIGIL_BAD_REQUEST',
        'the body is not a fault this simulator knows',
        [...fault.errors, ...acceptedList()],
      );
    }
    return sendJson(res, 201, await target.setFault(id, fault.value as SimFault));
  }

  /** The site gateway (sim/gateway.ts): its temperature, heated and cooled on demand. */
  private async gatewayRoute(
    path: string,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const allowed = path === simRoutes.gateway ? ['GET'] : ['POST', 'DELETE'];
    if (!allowed.includes(req.method ?? '')) return methodNotAllowed(res, allowed.join(', '));
    const { gateway } = this.options;
    if (!gateway) {
      return sendError(res, 404, 'VIGIL_NOT_FOUND', 'this simulator plays no gateway', [
        'start it with --gateway-temperature-file FILE and name the same file in the ' +
          "agent config's gateway.temperatureFile (vigil demo does both)",
      ]);
    }
    if (req.method === 'GET') return sendJson(res, 200, gateway.info());
    if (req.method === 'DELETE') return sendJson(res, 200, await gateway.clearFaults());
    const body = await readJson(req);
    const example = 'accepted: {"kind":"gateway-hot","temperatureC":92,"durationS":600}';
    if (!body.ok) return sendError(res, 400, 'VIGIL_BAD_REQUEST', body.message, [example]);
    const fault = checkGatewayFault(body.value);
    if (!fault.ok) {
      return sendError(res, 400, 'VIGIL_BAD_REQUEST', 'the body is not a gateway fault', [
        ...fault.errors,
        example,
      ]);
    }
    return sendJson(res, 201, await gateway.setFault(fault.value));
  }
}

function acceptedList(): string[] {
  return acceptedFaults().map((line) => `accepted: ${line}`);
}

async function readJson(
  req: IncomingMessage,
): Promise<{ ok: true; value: unknown } | { ok: false; message: string }> {
  let text: string;
  try {
    text = await readBody(req, MAX_BODY_BYTES);
  } catch (error) {
    if (error instanceof BodyTooLargeError) return { ok: false, message: error.message };
    throw error;
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, message: 'the body must be JSON, e.g. {"kind":"offline"}' };
  }
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': body.length,
  });
  res.end(body);
}

function sendError(
  res: ServerResponse,
  status: number,
  code: ErrorCode,
  message: string,
  details: string[] = [],
): void {
  const error: ApiError = { code, message: `${message}. ${errorCodes[code]}`, details };
  sendJson(res, status, error);
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('Allow', allow);
  sendError(res, 405, 'VIGIL_BAD_REQUEST', `method not allowed here; use ${allow}`);
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
