import { describe, expect, it } from 'vitest';
import { Type } from 'typebox';
import { schemaValidator, toApiError } from '../../../../broker/api/errors.js';
import { NotLeaderWriteError } from '../../../../broker/sql/types.js';
import { VigilError } from '../../../../shared/errors.js';

describe('API errors', () => {
  it('maps coded errors to their HTTP status', () => {
    expect(toApiError(new VigilError('VIGIL_AUTH_REQUIRED')).status).toBe(401);
    expect(toApiError(new VigilError('VIGIL_AUTH_FAILED')).status).toBe(401);
    expect(toApiError(new VigilError('VIGIL_NOT_FOUND', 'No ticket 9')).body).toEqual({
      code: 'VIGIL_NOT_FOUND',
      message: 'No ticket 9',
    });
    expect(
      toApiError(new VigilError('VIGIL_BAD_REQUEST', 'bad', ['status: x'])).body.details,
    ).toEqual(['status: x']);
  });

  it('answers a write refused on a standby 503 with what to do, so the request goes to the leader', () => {
    const refused = toApiError(new NotLeaderWriteError('lease vigil is held by another node'));
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('VIGIL_NOT_LEADER');
    expect(refused.body.message).toMatch(/send the request to the leader/);
  });

  it("answers fastify's own 4xx refusals as bad requests and hides the text of a crash", () => {
    const tooLarge = Object.assign(new Error('Request body is too large'), { statusCode: 413 });
    expect(toApiError(tooLarge)).toEqual({
      status: 413,
      body: { code: 'VIGIL_BAD_REQUEST', message: 'Request body is too large' },
    });
    const crash = toApiError(new Error('SQLITE_CORRUPT: database disk image is malformed'));
    expect(crash.status).toBe(500);
    expect(crash.body.message).not.toContain('SQLITE');
  });

  it('converts query text to the schema types and lists every bad field by path', () => {
    const schema = Type.Object(
      { status: Type.Union([Type.Literal('open'), Type.Literal('all')]), limit: Type.Integer() },
      { additionalProperties: false },
    );
    const query = schemaValidator({ schema, httpPart: 'querystring', method: 'GET', url: '/' });
    expect(query({ status: 'open', limit: '5' })).toEqual({ value: { status: 'open', limit: 5 } });
    const bad = query({ status: 'closed', limit: 'many' }) as { error: VigilError };
    expect(bad.error.code).toBe('VIGIL_BAD_REQUEST');
    expect(bad.error.details).toEqual([
      expect.stringMatching(/^status: /),
      expect.stringMatching(/^limit: /),
    ]);
  });
});
