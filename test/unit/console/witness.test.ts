/**
 * The console names who saw a reason (Reason.witness: the NVR of a camera behind it) in
 * the reader's language, from shared/wording's one rule; nothing for a reason the device
 * saw itself.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { setLanguage } from '../../../console/src/strings.js';
import { reasonWitness } from '../../../console/src/wording.js';

describe("the witness of a camera's reason on the device page", () => {
  afterEach(() => setLanguage('en'));

  it('says which NVR saw it, in English and Chinese, and nothing without a witness', () => {
    expect(reasonWitness({ witness: 'nvr-01' })).toBe('seen by NVR nvr-01');
    expect(reasonWitness({})).toBe('');
    setLanguage('zh-CN');
    expect(reasonWitness({ witness: 'nvr-01' })).toBe('由录像机 nvr-01 发现');
  });
});
