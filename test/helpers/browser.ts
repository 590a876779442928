/**
 * Debian's chromium driven by playwright-core (never a downloaded browser). The flags
 * keep it from reaching out to the network, which this machine does not have.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { HEADLESS_OFFLINE } from '../../broker/inspection/issued/pdf.js';
import { CHROMIUM, chromium as chromiumProgram, need } from './requires.js';

/** Screenshots land here so a person can look at each screen after a run. */
export const screenshotDir = fileURLToPath(
  new URL('../../test-output/screenshots/', import.meta.url),
);

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export interface BrowserOptions {
  /** The zone the browser's computer is set to (an IANA name); the machine's by default. */
  timezoneId?: string;
}

export async function launchBrowser(options: BrowserOptions = {}): Promise<Browser> {
  need(chromiumProgram);
  mkdirSync(screenshotDir, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), 'vigil-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: [...HEADLESS_OFFLINE, '--disable-quic'],
    ...(options.timezoneId === undefined ? {} : { timezoneId: options.timezoneId }),
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
