/**
 * Prints a report's HTML to PDF with a headless chromium (STYLE habit 7: the only place
 * that starts the browser). Debian's chromium, or the program `reports.chromiumPath` in
 * broker.yaml names. Each print gets a fresh profile in a temporary folder, removed after;
 * the flags keep the browser off the network (a broker in a NOC often has none) and away
 * from any GPU, sandbox helper or first-run screens a server does not have.
 *
 * Chinese text needs a CJK font on the machine (Debian's fonts-wqy-microhei): without one
 * chromium prints empty boxes and `pdftotext` reads nothing back.
 *
 * One print at a time: each chromium takes a core for a second or two, and the broker's
 * event loop must keep serving PUBACKs meanwhile.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { VigilError } from '../../../shared/errors.js';

/** Debian's chromium (the `chromium` package); the default of `reports.chromiumPath`. */
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';
/** Long enough for a 500-device report on a busy 2-core server; a hung browser is killed. */
export const DEFAULT_PRINT_TIMEOUT_MS = 60_000;

/**
 * Headless, without the sandbox helper (a service account has no user namespaces), a GPU
 * or first-run screens, and without reaching out to Google's services. The browser tests
 * start chromium the same way (test/helpers/browser.ts).
 */
export const HEADLESS_OFFLINE: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface PdfPrinter {
  /** The PDF bytes of the page; VIGIL_REPORT_PRINT_FAILED saying what to do when it cannot. */
  print(html: string): Promise<Buffer>;
}

export interface ChromiumOptions {
  chromiumPath?: string;
  timeoutMs?: number;
}

/** Why no PDF can be made, and both ways out: install the browser, or name it. */
function missing(path: string): VigilError {
  return new VigilError(
    'VIGIL_REPORT_PRINT_FAILED',
    `chromium not found at ${path}, so the report cannot be printed to PDF: install it (apt-get install chromium fonts-wqy-microhei; the font for Chinese reports), or set reports.chromiumPath in broker.yaml to the browser's program.`,
  );
}

/** The last lines of chromium's stderr worth reading: its D-Bus complaints on a server are not. */
function tail(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.includes('dbus') && !line.includes('bytes written'));
  return lines.slice(-3).join(' | ').slice(0, 600);
}

export class ChromiumPdfPrinter implements PdfPrinter {
  private readonly path: string;
  private readonly timeoutMs: number;
  /** The print running now; the next waits for it. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: ChromiumOptions = {}) {
    this.path = options.chromiumPath ?? DEFAULT_CHROMIUM;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_PRINT_TIMEOUT_MS;
  }

  print(html: string): Promise<Buffer> {
    const run = this.queue.then(
      () => this.printNow(html),
      () => this.printNow(html),
    );
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async printNow(html: string): Promise<Buffer> {
    if (!existsSync(this.path)) throw missing(this.path);
    const dir = await mkdtemp(join(tmpdir(), 'vigil-print-'));
    try {
      const page = join(dir, 'report.html');
      const pdf = join(dir, 'report.pdf');
      await writeFile(page, html);
      await this.run([
        ...HEADLESS_OFFLINE,
        '--disable-extensions',
        '--mute-audio',
        `--user-data-dir=${join(dir, 'profile')}`,
        // Without it chromium prints the date and the temporary file's URL on every page;
        // chromium before 111 knew it as --print-to-pdf-no-header (an unknown switch is ignored).
        '--no-pdf-header-footer',
        '--print-to-pdf-no-header',
        `--print-to-pdf=${pdf}`,
        pathToFileURL(page).href,
      ]);
      const bytes = await readFile(pdf).catch(() => null);
      // ISO 32000-1 section 7.5.2: a PDF file begins with its header, "%PDF-".
      if (bytes === null || bytes.subarray(0, 5).toString('latin1') !== '%PDF-') {
        throw new VigilError(
          'VIGIL_REPORT_PRINT_FAILED',
          `chromium (${this.path}) ended without writing a PDF; check that it starts on this machine (\`${this.path} --headless --print-to-pdf=/tmp/x.pdf about:blank\`).`,
        );
      }
      return bytes;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Runs chromium in a process group of its own, so a timeout ends its helpers too. */
  private run(args: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.path, args, {
        detached: true,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        stderr = (stderr + chunk).slice(-8192);
      });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(child.pid);
      }, this.timeoutMs);
      child.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(
          error.code === 'ENOENT' || error.code === 'EACCES'
            ? missing(this.path)
            : new VigilError(
                'VIGIL_REPORT_PRINT_FAILED',
                `chromium (${this.path}) could not be started: ${error.message}`,
              ),
        );
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        if (timedOut) {
          reject(
            new VigilError(
              'VIGIL_REPORT_PRINT_FAILED',
              `chromium did not print the report within ${Math.round(this.timeoutMs / 1000)} s and was stopped; retry, or raise reports.printTimeoutS in broker.yaml on a busy server.`,
            ),
          );
        } else if (code !== 0) {
          reject(
            new VigilError(
              'VIGIL_REPORT_PRINT_FAILED',
              `chromium (${this.path}) failed (${signal ?? `exit ${code}`}): ${tail(stderr) || 'no message'}`,
            ),
          );
        } else {
          resolve();
        }
      });
    });
  }
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    // A negative pid is the process group (POSIX kill(2)): chromium and its helpers.
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
