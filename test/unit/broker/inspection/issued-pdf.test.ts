/**
 * The PDF printer's failures say what to do: a machine without chromium is told to install
 * it (and the CJK font) or to name it in broker.yaml, and a browser that does not finish is
 * stopped with its whole process group.
 */
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChromiumPdfPrinter } from '../../../../broker/inspection/issued/pdf.js';
import { VigilError } from '../../../../shared/errors.js';

const leftovers = () => readdirSync(tmpdir()).filter((name) => name.startsWith('vigil-print-'));

describe('ChromiumPdfPrinter', () => {
  let dir = '';
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = '';
  });

  it('without chromium: says to install it with the Chinese font, or to set reports.chromiumPath', async () => {
    const printer = new ChromiumPdfPrinter({ chromiumPath: '/nonexistent/bin/chromium' });
    const failure = await printer.print('<p>巡检</p>').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(VigilError);
    const error = failure as VigilError;
    expect(error.code).toBe('VIGIL_REPORT_PRINT_FAILED');
    expect(error.message).toContain('/nonexistent/bin/chromium');
    expect(error.message).toContain('apt-get install chromium fonts-wqy-microhei');
    expect(error.message).toContain('reports.chromiumPath');
  });

  it('a browser that hangs is stopped at the timeout and its temporary folder removed', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-fake-chromium-'));
    const fake = join(dir, 'chromium');
    // A stand-in that never prints: the printer must give up, not wait forever.
    writeFileSync(fake, '#!/bin/sh\nsleep 30\n');
    chmodSync(fake, 0o755);
    const before = leftovers().length;
    const printer = new ChromiumPdfPrinter({ chromiumPath: fake, timeoutMs: 300 });
    const started = Date.now();
    const error = (await printer.print('<p>x</p>').catch((e: unknown) => e)) as VigilError;
    expect(error.code).toBe('VIGIL_REPORT_PRINT_FAILED');
    expect(error.message).toContain('did not print the report within');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(leftovers().length).toBeLessThanOrEqual(before);
  });

  it('a browser that exits without a PDF is an error naming the program', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-fake-chromium-'));
    const fake = join(dir, 'chromium');
    writeFileSync(fake, '#!/bin/sh\necho "no display: something broke" >&2\nexit 1\n');
    chmodSync(fake, 0o755);
    const error = (await new ChromiumPdfPrinter({ chromiumPath: fake })
      .print('<p>x</p>')
      .catch((e: unknown) => e)) as VigilError;
    expect(error.code).toBe('VIGIL_REPORT_PRINT_FAILED');
    expect(error.message).toContain(fake);
    expect(error.message).toContain('something broke');
  });
});
