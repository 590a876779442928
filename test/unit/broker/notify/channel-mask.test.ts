/** Masks of the robots' URLs and secrets (broker/notify/channels/http.ts): the token never shows. */
import { describe, expect, it } from 'vitest';
import { cutBytes, mask, maskUrl, scrub } from '../../../../broker/notify/channels/http.js';

describe('masking channel secrets', () => {
  it.each([
    [
      'https://oapi.dingtalk.com/robot/send?access_token=abcd0123456789deadbeefwxyz',
      'https://oapi.dingtalk.com/robot/send?access_token=abcd…wxyz',
    ],
    [
      'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7aoc-4bc4-97a0-0ec2sifa5aaa',
      'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a…5aaa',
    ],
    [
      'https://open.feishu.cn/open-apis/bot/v2/hook/5e3d587e-d78e-4a07-bd07-265f269f86fd',
      'https://open.feishu.cn/open-apis/bot/v2/hook/5e3d…86fd',
    ],
  ])('%s', (url, masked) => expect(maskUrl(url)).toBe(masked));

  it('shows nothing of a short secret', () => expect(mask('short')).toBe('…'));

  it('scrubs a secret and its URL-encoded form out of a text', () => {
    const secret = 'SEC+abc/def=0123456789';
    expect(scrub(`sign ${secret} and ${encodeURIComponent(secret)}`, [secret])).toBe(
      'sign SEC+…6789 and SEC+…6789',
    );
  });

  it('cuts UTF-8 at a character boundary', () => {
    const cut = cutBytes('紧急'.repeat(100), 50);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(50);
    expect(cut.endsWith('…')).toBe(true);
  });
});
