/**
 * broker/db.ts: the database file holds secrets (channel tokens, the acknowledge links'
 * signing key, password hashes), so it and its WAL companions are owner-only, whatever the
 * umask, and a file left readable by an older version is closed at the next start.
 */
import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../broker/db.js';
import { tempDir, type TempDir } from '../../helpers/temp.js';

let dir: TempDir | null = null;
afterEach(async () => {
  await dir?.remove();
  dir = null;
});

const mode = (path: string) => statSync(path).mode & 0o777;

describe('openDatabase', () => {
  it('makes the database and its WAL files readable by their owner alone', async () => {
    dir = await tempDir('vigil-db-');
    const file = join(dir.path, 'vigil.db');
    const umask = process.umask(0o022);
    try {
      const db = openDatabase(file);
      db.exec("CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('secret')");
      for (const path of [file, `${file}-wal`, `${file}-shm`]) expect(mode(path)).toBe(0o600);
      db.close();
    } finally {
      process.umask(umask);
    }
  });

  it('closes a file an older version left readable by everyone', async () => {
    dir = await tempDir('vigil-db-');
    const file = join(dir.path, 'vigil.db');
    openDatabase(file).close();
    chmodSync(file, 0o644);
    writeFileSync(`${file}-wal`, '');
    chmodSync(`${file}-wal`, 0o644);
    const db = openDatabase(file);
    expect(mode(file)).toBe(0o600);
    expect(mode(`${file}-wal`)).toBe(0o600);
    db.close();
  });
});
