/**
 * The checks a schema cannot say clearly (broker/oncall/validate.ts): mainland mobile
 * numbers as typed by people, email addresses, IANA zones (no abbreviations), Feishu
 * open_ids.
 */
import { describe, expect, it } from 'vitest';
import {
  emailError,
  feishuOpenIdError,
  normalizePhone,
  timeZoneError,
} from '../../../../broker/oncall/validate.js';

describe('on-call field checks', () => {
  it('keeps 11 bare digits of a mainland mobile however it was typed', () => {
    for (const typed of [
      '13800138000',
      '138 0013 8000',
      '138-0013-8000',
      '+86 138 0013 8000',
      '+8613800138000',
      '0086 13800138000',
      '(138) 0013-8000',
    ]) {
      expect(normalizePhone(typed), typed).toEqual({ ok: true, phone: '13800138000' });
    }
    expect(normalizePhone('19912345678')).toEqual({ ok: true, phone: '19912345678' });
  });

  it('refuses what is not a mainland mobile, saying what to send', () => {
    for (const typed of [
      '1380013800',
      '138001380001',
      '12800138000',
      '010-12345678',
      '+1 415 555 0100',
      '1380013800a',
    ]) {
      const result = normalizePhone(typed);
      expect(result.ok, typed).toBe(false);
      if (!result.ok) {
        expect(result.error).toBe(
          `phone: "${typed}" is not a mainland mobile number; send 11 digits starting with 1, e.g. 13800138000 (a leading +86, spaces and dashes are allowed)`,
        );
      }
    }
  });

  it('checks email addresses for the obvious typos only', () => {
    expect(emailError('zhang.wei@example.com')).toBeNull();
    expect(emailError('张伟@例子.中国')).toBeNull();
    for (const bad of ['zhang.wei', 'zhang@', '@example.com', 'zhang wei@example.com', 'a@b.']) {
      expect(emailError(bad), bad).toMatch(/^email: ".*" is not an email address/);
    }
  });

  it('takes IANA Area/Location zones and UTC, not abbreviations', () => {
    for (const zone of ['Asia/Shanghai', 'Asia/Urumqi', 'Europe/Berlin', 'UTC', 'Etc/GMT-8']) {
      expect(timeZoneError(zone), zone).toBeNull();
    }
    expect(timeZoneError('CST')).toMatch(/abbreviations such as CST are ambiguous/);
    expect(timeZoneError('PRC')).toMatch(/^timeZone: "PRC" is not an IANA time zone/);
    expect(timeZoneError('Asia/Beijing')).toBe(
      'timeZone: "Asia/Beijing" is not an IANA time zone; send one like Asia/Shanghai or Europe/Berlin',
    );
  });

  it('wants the Feishu open_id, which starts with ou_', () => {
    expect(feishuOpenIdError('ou_7d8a6e6df7621556ce0d21922b676706ccs')).toBeNull();
    expect(feishuOpenIdError('on_94a1ee5551019f18cd73d9f111898cf2')).toMatch(/not an open_id/);
    expect(feishuOpenIdError('5d9bdxxx')).toMatch(/not an open_id/);
  });
});
