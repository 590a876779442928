/**
 * `reports` in broker.yaml: which chromium prints an issued report's PDF and how long it
 * may take (broker/inspection/issued/pdf.ts); Debian's chromium and 60 s by default.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../broker/config.js';
import { VigilError } from '../../../shared/errors.js';

describe('broker config: reports', () => {
  it("defaults to Debian's chromium and 60 s", () => {
    expect(parseConfig('', { env: {} }).reports).toEqual({
      chromiumPath: '/usr/bin/chromium',
      printTimeoutMs: 60_000,
    });
  });

  it("takes a path from the config file's folder and a timeout in seconds", () => {
    const config = parseConfig('reports: { chromiumPath: bin/chrome, printTimeoutS: 120 }', {
      env: {},
      baseDir: '/etc/vigil',
    });
    expect(config.reports).toEqual({
      chromiumPath: '/etc/vigil/bin/chrome',
      printTimeoutMs: 120_000,
    });
  });

  it('refuses a timeout too short to print and an unknown field, each with its path', () => {
    let error: unknown;
    try {
      parseConfig('reports: { printTimeoutS: 1, chromium: /usr/bin/chromium }', { env: {} });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(VigilError);
    expect((error as VigilError).details).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^reports\/printTimeoutS: must be >= 5/),
        'reports: unknown field(s) chromium',
      ]),
    );
  });
});
