/**
 * Child processes of the demo: each part runs as its own `vigil` process, exactly as it
 * would on its own machine, with its output prefixed so one terminal shows all of them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const vigilEntry = fileURLToPath(new URL('./vigil.js', import.meta.url));

export interface Child {
  name: string;
  process: ChildProcess;
  /** Resolves with the first output line that matches, rejects if the child exits first. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<string>;
  stop(): Promise<void>;
}

export function startChild(name: string, args: string[], env: NodeJS.ProcessEnv): Child {
  const child = spawn(process.execPath, [vigilEntry, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const waiters = new Set<{ pattern: RegExp; resolve: (line: string) => void }>();
  const prefix = `[${name}]`.padEnd(9);
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      console.log(`${prefix}${line}`);
      for (const waiter of waiters) {
        if (waiter.pattern.test(line)) {
          waiters.delete(waiter);
          waiter.resolve(line);
        }
      }
    });
  }
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );

  return {
    name,
    process: child,
    waitFor(pattern, timeoutMs) {
      return new Promise<string>((resolve, reject) => {
        const waiter = { pattern, resolve };
        waiters.add(waiter);
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`${name} did not print ${pattern} within ${timeoutMs} ms`));
        }, timeoutMs);
        void exited.then((code) => {
          if (!waiters.has(waiter)) return;
          waiters.delete(waiter);
          clearTimeout(timer);
          reject(
            new Error(`${name} exited with code ${code} before it was ready; see its output above`),
          );
        });
        waiter.resolve = (line) => {
          clearTimeout(timer);
          resolve(line);
        };
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
