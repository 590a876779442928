/** Ids for customers known only by name (broker/customers/store.ts, slugOf). */
import { expect, it } from 'vitest';
import { slugOf } from '../../../../broker/customers/store.js';

it('makes ids from names: ASCII kept, a Chinese name hashed', () => {
  expect(slugOf('Acme, Inc.')).toBe('acme-inc');
  expect(slugOf('Café Müller')).toBe('cafe-muller');
  expect(slugOf('上海某物流有限公司')).toMatch(/^customer-[0-9a-f]{8}$/);
  expect(slugOf('上海某物流有限公司')).toBe(slugOf(' 上海某物流有限公司 '));
});
