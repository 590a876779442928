#!/usr/bin/env node
/**
 * The `vigil` command: one entry for every part. It only parses the subcommand and
 * hands the rest of argv to that part's main; each part validates its own options.
 */
import { VigilError } from '../shared/errors.js';

type Main = (argv: string[]) => Promise<void>;

const subcommands: Record<string, { summary: string; load: () => Promise<Main> }> = {
  demo: {
    summary: 'run broker, console, a simulated site and an agent on this machine',
    load: async () => (await import('./demo.js')).main,
  },
  broker: {
    summary: 'run the central broker (MQTT, pipeline, API, console); add-agent, revoke-agent',
    load: async () => (await import('../broker/main.js')).main,
  },
  agent: {
    summary: 'run a site agent: vigil agent --config agent.yaml',
    load: async () => (await import('../agent/main.js')).main,
  },
  sim: {
    summary: 'run the ONVIF site simulator',
    load: async () => (await import('../sim/main.js')).main,
  },
  backup: {
    summary: "copy the broker's databases, config and credentials: vigil backup --out DIR",
    load: async () => (await import('./backup.js')).backupMain,
  },
  restore: {
    summary: 'put a backup back: vigil restore --from DIR --config broker.yaml',
    load: async () => (await import('./backup.js')).restoreMain,
  },
};

function usage(): string {
  const lines = Object.entries(subcommands).map(([name, s]) => `  ${name.padEnd(8)} ${s.summary}`);
  return ['usage: vigil <subcommand> [options]', '', ...lines].join('\n');
}

async function run(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return;
  }
  const subcommand = subcommands[name];
  if (!subcommand) {
    console.error(`vigil: unknown subcommand "${name}"\n\n${usage()}`);
    process.exitCode = 2;
    return;
  }
  const main = await subcommand.load();
  await main(rest);
}

run(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof VigilError) {
    console.error(error.describe());
  } else {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  }
  process.exit(1);
});
