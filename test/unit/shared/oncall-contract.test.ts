import { describe, expect, it } from 'vitest';
import {
  OnCallNow,
  onCallNowExample,
  PersonCreate,
  Rotation,
  rotationExample,
  Team,
  teamExample,
} from '../../../shared/api/oncall.js';
import { validator } from '../../../shared/validate.js';

describe('on-call schemas', () => {
  it('the examples pass their schemas', () => {
    expect(validator(OnCallNow)(onCallNowExample).ok).toBe(true);
    expect(validator(Team)(teamExample).ok).toBe(true);
    expect(validator(Rotation)(rotationExample).ok).toBe(true);
  });

  it('a new person needs an id and a name, and nothing unknown', () => {
    const check = validator(PersonCreate);
    expect(check({ id: 'zhang-wei', name: '张伟' }).ok).toBe(true);
    const bad = check({ name: '张伟', mobile: '13800138000' });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.errors.join('\n')).toMatch(/id/);
    expect(bad.errors.join('\n')).toMatch(/mobile/);
  });
});
