import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCodes, VigilError } from '../../../shared/errors.js';

describe('error registry', () => {
  const doc = readFileSync(new URL('../../../docs/ERRORS.md', import.meta.url), 'utf8');

  for (const code of Object.keys(errorCodes)) {
    it(`documents ${code} in docs/ERRORS.md`, () => {
      expect(doc).toContain(`\`${code}\``);
    });
  }

  it('describes an error with every detail and what to do', () => {
    const error = new VigilError('VIGIL_CONFIG_INVALID', 'agent.yaml has 2 errors', [
      'mqtt.url: must be a URL',
      'devices/2/xaddr: required',
    ]);
    expect(error.describe()).toBe(
      [
        'VIGIL_CONFIG_INVALID: agent.yaml has 2 errors',
        '  - mqtt.url: must be a URL',
        '  - devices/2/xaddr: required',
        errorCodes.VIGIL_CONFIG_INVALID,
      ].join('\n'),
    );
  });
});
