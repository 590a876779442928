import { describe, expect, it } from 'vitest';
import { fastifyLogger, formatLine } from '../../../../broker/api/logger.js';

describe('API log lines', () => {
  it('writes the message and plain fields', () => {
    expect(formatLine([{ failedLogins: 3 }, 'login failed'], false)).toBe(
      'login failed (failedLogins=3)',
    );
    expect(formatLine(['Server listening at http://127.0.0.1:8080'], false)).toBe(
      'Server listening at http://127.0.0.1:8080',
    );
  });

  it('never writes secrets, headers or request objects', () => {
    const line = formatLine(
      [
        {
          password: 'hunter22',
          token: 'abc123',
          req: { headers: { authorization: 'Bearer abc123', cookie: 'vigil_session=abc123' } },
          user: 'admin',
        },
        'login',
      ],
      false,
    );
    expect(line).toBe('login (user=admin)');
  });

  it('adds the stack of an error on error lines', () => {
    const lines: string[] = [];
    const log = fastifyLogger({
      info: (l) => lines.push(`info ${l}`),
      warn: (l) => lines.push(`warn ${l}`),
      error: (l) => lines.push(`error ${l}`),
    });
    log.error({ err: new Error('disk I/O error'), path: '/api/tickets' }, 'request failed');
    log.debug('dropped');
    log.child({}).warn('careful');
    expect(lines[0]).toMatch(
      /^error request failed \(path=\/api\/tickets\): Error: disk I\/O error\n\s+at /,
    );
    expect(lines.slice(1)).toEqual(['warn careful']);
  });
});
