/**
 * How the API says no. Every error answer is an ApiError body with a code from
 * shared/errors.ts: request validation runs through shared/validate.ts (the same
 * validator as configs and MQTT messages, so a bad field reads the same everywhere), and
 * one error handler maps VigilError codes to HTTP statuses.
 */
import type { FastifyError, FastifyReply, FastifyRequest, FastifySchemaCompiler } from 'fastify';
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import type { ApiError } from '../../shared/api/common.js';
import { apiRoutes } from '../../shared/api/routes.js';
import { VigilError, type ErrorCode } from '../../shared/errors.js';
import { validator } from '../../shared/validate.js';
import { NotLeaderWriteError } from '../sql/types.js';

/** HTTP status of each code the API answers with (RFC 9110 section 15). */
export const httpStatus: Partial<Record<ErrorCode, number>> = {
  VIGIL_BAD_REQUEST: 400,
  VIGIL_AUTH_REQUIRED: 401,
  VIGIL_AUTH_FAILED: 401,
  // RFC 6585 section 4: too many requests, with Retry-After.
  VIGIL_AUTH_LOCKED: 429,
  VIGIL_FORBIDDEN: 403,
  VIGIL_CONFLICT: 409,
  VIGIL_METRICS_STORE_DOWN: 503,
  VIGIL_NOT_FOUND: 404,
  // The PDF printer (chromium) is missing or failed: the server's setup, not the request.
  VIGIL_REPORT_PRINT_FAILED: 503,
};

/**
 * The code of an unexpected failure (a bug or a broken database). Not yet in the
 * registry of shared/errors.ts: the lead adds it there and to docs/ERRORS.md.
 */
export const INTERNAL_ERROR_CODE = 'VIGIL_INTERNAL';

const partNames: Record<string, string> = {
  body: 'request body',
  querystring: 'query string',
  params: 'URL path',
  headers: 'request headers',
};

/** Fastify validator compiler over shared/validate.ts. */
export const schemaValidator: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = validator(schema);
  const part = httpPart ?? 'request';
  const where = partNames[part] ?? part;
  return (value: unknown) => {
    // Query strings, path parameters and headers arrive as text: "5" becomes 5 before
    // the check, as fastify's default (Ajv coerceTypes) does. A JSON body keeps its types.
    const input = part === 'body' ? value : Value.Convert(schema, value);
    const result = check(input);
    if (result.ok) return { value: result.value };
    return {
      error: new VigilError(
        'VIGIL_BAD_REQUEST',
        `The ${where} does not match its schema: fix the listed fields.`,
        result.errors,
      ),
    };
  };
};

export function toApiError(error: unknown): { status: number; body: ApiError } {
  // A write on a standby of a pair (broker/sql/types.ts): the request is sound, this node
  // is the wrong one; 503 tells the load balancer and the console to try the leader.
  if (error instanceof NotLeaderWriteError)
    return { status: 503, body: { code: error.code, message: error.message } };
  if (error instanceof VigilError) {
    const body: ApiError = { code: error.code, message: error.message };
    if (error.details.length > 0) body.details = error.details;
    return { status: httpStatus[error.code] ?? 500, body };
  }
  const status = (error as Partial<FastifyError> | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's own refusals: malformed JSON, unsupported content type, body too large.
    const message = error instanceof Error ? error.message : 'Bad request';
    return {
      status,
      body: { code: status === 404 ? 'VIGIL_NOT_FOUND' : 'VIGIL_BAD_REQUEST', message },
    };
  }
  return {
    status: 500,
    body: {
      code: INTERNAL_ERROR_CODE,
      message: 'The broker failed to answer this request; the cause is in its log.',
    },
  };
}

export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const { status, body } = toApiError(error);
  // Refusals (4xx) are the client's business and would flood the log; failures are ours.
  if (status >= 500) {
    const path = request.url.split('?')[0];
    request.log.error({ err: error, method: request.method, path }, 'request failed');
  }
  void reply.status(status).send(body);
}

export function notFound(method: string, path: string, hint?: string): VigilError {
  return new VigilError(
    'VIGIL_NOT_FOUND',
    `No route ${method} ${path}: ${hint ?? `the routes are listed in ${apiRoutes.openapi}.`}`,
  );
}
