/**
 * The devices discovery adopted (`auto`) or listed for approval (`approve`), kept in
 * `dataDir/discovered.json` so that they survive an agent restart or a gateway reboot: an
 * adopted camera that stops answering the Probe (dead, unplugged, its multicast filtered)
 * is polled at once after the restart and reported down, not forgotten.
 *
 * Written atomically (a temporary file, fsync, rename, fsync of the folder: POSIX rename
 * replaces the name in one step), so a power cut leaves the old file or the new one. A file
 * that is still unreadable (a disk error, a hand edit) is set aside as
 * `discovered.json.corrupt` with a log line saying so, and the agent starts without it: the
 * next Probe finds the devices that still answer.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { Type, type Static } from 'typebox';
import { validator } from '../shared/validate.js';
import type { Logger } from './log.js';

export const DISCOVERED_FILE = 'discovered.json';

const Text = Type.String({ maxLength: 2000 });

const Found = Type.Object({
  id: Text,
  firstSeenAt: Type.String({ format: 'date-time' }),
  lastSeenAt: Type.String({ format: 'date-time' }),
  device: Type.Object({
    endpoint: Text,
    xaddr: Text,
    xaddrs: Type.Array(Text, { maxItems: 64 }),
    scopes: Type.Array(Text, { maxItems: 256 }),
    name: Type.Union([Text, Type.Null()]),
    hardware: Type.Union([Text, Type.Null()]),
  }),
});

export const DiscoveredFile = Type.Object({
  version: Type.Literal(1),
  adopted: Type.Array(Found, { maxItems: 100_000 }),
  pending: Type.Array(Found, { maxItems: 100_000 }),
});
export type DiscoveredFile = Static<typeof DiscoveredFile>;
export type SavedDevice = Static<typeof Found>;

const check = validator(DiscoveredFile);

export class DiscoveredStore {
  readonly #dir: string;
  readonly #log: Logger;
  /** One writer at a time: two renames of the same temporary file would race. */
  #writing: Promise<void> = Promise.resolve();

  constructor(dir: string, log: Logger) {
    this.#dir = dir;
    this.#log = log;
  }

  get path(): string {
    return join(this.#dir, DISCOVERED_FILE);
  }

  /** What the last run saved; empty lists when there is no file or it cannot be read. */
  async load(): Promise<DiscoveredFile> {
    const empty: DiscoveredFile = { version: 1, adopted: [], pending: [] };
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return empty;
      this.#log.warn(
        `cannot read ${this.path} (${(error as Error).message}); starting without the devices ` +
          'discovery adopted before: they come back when they answer the next Probe',
      );
      return empty;
    }
    let problem: string;
    try {
      const result = check(JSON.parse(text));
      if (result.ok) return result.value;
      problem = result.errors.slice(0, 3).join('; ');
    } catch (error) {
      problem = (error as Error).message;
    }
    const aside = `${this.path}.corrupt`;
    await rename(this.path, aside).catch(() => undefined);
    this.#log.warn(
      `${this.path} is damaged (${problem}); set aside as ${aside}, starting without the ` +
        'devices discovery adopted before: they come back when they answer the next Probe',
    );
    return empty;
  }

  /** Replaces the file; resolves once the new content is durable. */
  save(content: DiscoveredFile): Promise<void> {
    const write = async (): Promise<void> => {
      await mkdir(this.#dir, { recursive: true });
      const tmp = `${this.path}.tmp`;
      const handle = await open(tmp, 'w');
      try {
        await handle.writeFile(JSON.stringify(content));
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, this.path);
      // The rename is durable only once the folder is synced (POSIX fsync).
      const dir = await open(this.#dir, 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    };
    const run = this.#writing.then(write, write);
    this.#writing = run.catch((error: unknown) => {
      this.#log.warn(
        `cannot save the discovered devices to ${this.path} (${(error as Error).message}); ` +
          'they are polled but would be forgotten by a restart: check the data folder is writable',
      );
    });
    return this.#writing;
  }

  /** Waits for the last save. */
  async flush(): Promise<void> {
    await this.#writing;
  }
}
