import { describe, expect, it } from 'vitest';
import { freshNonce } from '../../../agent/onvif/nonce.js';

describe('freshNonce', () => {
  it('gives 16 bytes each call, never the same twice across many blocks', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const nonce = freshNonce(16);
      expect(nonce).toHaveLength(16);
      seen.add(nonce.toString('hex'));
    }
    expect(seen.size).toBe(2000);
  });

  it('gives what was asked for when it is larger than a block', () => {
    expect(freshNonce(5000)).toHaveLength(5000);
  });
});
