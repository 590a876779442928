/** The Dahua answers of test/fixtures/vendor/dahua/ (SOURCE.md: recorded or documented). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function dahuaFixture(name: string): string {
  return readFileSync(
    fileURLToPath(new URL(`../../../fixtures/vendor/dahua/${name}`, import.meta.url)),
    'utf8',
  );
}
