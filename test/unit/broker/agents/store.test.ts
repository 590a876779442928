import { describe, expect, it } from 'vitest';
import { checkPassword, hashPassword } from '../../../../broker/agents/store.js';

describe('password hashing', () => {
  it('keeps a salted scrypt hash that matches only the password', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash).toMatch(/^scrypt\$\d+\$8\$1\$[\w-]+\$[\w-]+$/);
    expect(hash).not.toContain('correct horse');
    expect(await checkPassword('correct horse battery staple', hash)).toBe(true);
    expect(await checkPassword('correct horse battery stapler', hash)).toBe(false);
    expect(await checkPassword('', hash)).toBe(false);
  });

  it('salts every hash: the same password never gives the same hash', async () => {
    expect(await hashPassword('same password')).not.toBe(await hashPassword('same password'));
  });

  it('never matches a damaged hash', async () => {
    expect(await checkPassword('x', 'plain-text-password')).toBe(false);
    expect(await checkPassword('x', 'scrypt$16384$8$1$c2FsdA$')).toBe(false);
  });
});
