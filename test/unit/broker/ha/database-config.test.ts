/**
 * `database` in the broker config (issue 17): a PostgreSQL URL from the file or
 * VIGIL_DATABASE_URL, the password in the URL or in database.passwordFile, never both,
 * and never repeated in an error message.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../../broker/config.js';
import { maskDatabaseUrl } from '../../../../broker/ha/pg.js';
import { VigilError } from '../../../../shared/errors.js';

function details(document: unknown, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    resolveConfig(document, { env, baseDir: '/etc/vigil' });
  } catch (error) {
    if (error instanceof VigilError) return error.details;
    throw error;
  }
  throw new Error('expected a VigilError');
}

describe('database config', () => {
  it('is off by default', () => {
    expect(resolveConfig({}, { env: {} }).database).toBeNull();
  });

  it('takes the URL from the file, the password file relative to it', () => {
    const config = resolveConfig(
      { database: { url: 'postgres://vigil@db:5432/vigil', passwordFile: 'db-password' } },
      { env: { VIGIL_DATABASE_URL: 'postgres://other@elsewhere/x' }, baseDir: '/etc/vigil' },
    );
    expect(config.database).toEqual({
      url: 'postgres://vigil@db:5432/vigil',
      passwordFile: resolve('/etc/vigil', 'db-password'),
    });
  });

  it('takes VIGIL_DATABASE_URL when the file names none', () => {
    const config = resolveConfig({}, { env: { VIGIL_DATABASE_URL: 'postgresql://v:s@db/vigil' } });
    expect(config.database).toEqual({ url: 'postgresql://v:s@db/vigil', passwordFile: null });
  });

  it('reports a URL that is not PostgreSQL with its password masked', () => {
    const found = details({ database: { url: 'mysql://vigil:hunter2@db/vigil' } });
    expect(found).toEqual([
      'database/url: mysql://vigil:***@db/vigil is not a PostgreSQL URL; write postgres://USER@HOST:5432/DATABASE',
    ]);
    expect(details({}, { VIGIL_DATABASE_URL: 'hunter2 not a url' })).toEqual([
      'VIGIL_DATABASE_URL (environment): the value is not a PostgreSQL URL; write postgres://USER@HOST:5432/DATABASE',
    ]);
  });

  it('refuses a password in two places, and a password file without a server', () => {
    expect(
      details({ database: { url: 'postgres://v:hunter2@db/vigil', passwordFile: 'pw' } }).join(),
    ).toMatch(/holds a password and database\/passwordFile gives one too/);
    expect(details({ database: { passwordFile: 'pw' } })).toEqual([
      'database/passwordFile: needs database/url (or VIGIL_DATABASE_URL), the server to log in to',
    ]);
  });

  it('never shows a password in a masked URL', () => {
    expect(maskDatabaseUrl('postgres://vigil:s%40cret@db:5432/vigil')).toBe(
      'postgres://vigil:***@db:5432/vigil',
    );
    expect(maskDatabaseUrl('postgres://vigil@db/vigil')).toBe('postgres://vigil@db/vigil');
    expect(maskDatabaseUrl('::not a url s3cret')).toBe('(not a URL)');
  });
});
