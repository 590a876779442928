/**
 * journal.store in the broker config (broker/config.ts, docs/HA.md): with database.url
 * the journal is in PostgreSQL unless the file says otherwise; postgres without a
 * database is refused with what to write.
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../../broker/config.js';

const url = 'postgres://vigil@db.example.com:5432/vigil';

function refusal(document: object): string[] {
  try {
    resolveConfig(document, { env: {} });
  } catch (error) {
    return (error as { details: string[] }).details;
  }
  throw new Error('the config was accepted');
}

describe('journal.store', () => {
  it('is file without a database, postgres with one, and what the file says otherwise', () => {
    expect(resolveConfig({}, { env: {} }).journal.store).toBe('file');
    expect(resolveConfig({ database: { url } }, { env: {} }).journal.store).toBe('postgres');
    expect(resolveConfig({}, { env: { VIGIL_DATABASE_URL: url } }).journal.store).toBe('postgres');
    expect(
      resolveConfig({ database: { url }, journal: { store: 'file' } }, { env: {} }).journal.store,
    ).toBe('file');
  });

  it('refuses postgres without a database, saying what to write', () => {
    expect(refusal({ journal: { store: 'postgres' } })).toEqual([
      'journal/store: postgres needs database/url (or VIGIL_DATABASE_URL), the PostgreSQL the journal commits to; or write store: file',
    ]);
    expect(refusal({ journal: { store: 'sqlite' } }).join()).toMatch(/journal\/store/);
  });
});
