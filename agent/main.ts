/**
 * `vigil agent --config FILE`: load the configuration, start the agent, print one ready
 * line, stop cleanly on SIGINT/SIGTERM. Nothing else lives here.
 */
import { parseArgs } from 'node:util';
import { Agent } from './agent.js';
import { loadConfig } from './config.js';
import { consoleLogger, type Logger } from './log.js';
import { safeUrl } from './uplink.js';
import { vigilVersion } from './version.js';

const USAGE = `usage: vigil agent --config FILE

Polls the ONVIF cameras and NVRs listed in FILE (YAML) and reports to the NOC broker.
  -c, --config FILE   the agent configuration (see agent/README.md)
  -h, --help          show this help`;

/** The process around the agent; tests pass their own to watch signals and exits. */
export interface MainIo {
  log: Logger;
  /** Where SIGINT and SIGTERM come from. */
  signals: { on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown };
  exit(code: number): void;
  /** Usage and option errors. */
  print(text: string): void;
  printError(text: string): void;
}

const processIo: MainIo = {
  log: consoleLogger,
  signals: process,
  exit: (code) => process.exit(code),
  print: (text) => console.log(text),
  printError: (text) => console.error(text),
};

export async function main(argv: string[], io: MainIo = processIo): Promise<void> {
  let values: { config?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    io.printError(`vigil agent: ${(error as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (values.help) {
    io.print(USAGE);
    return;
  }
  if (values.config === undefined) {
    io.printError(`vigil agent: --config FILE is required\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }

  // Throws VIGIL_CONFIG_INVALID with every error by path; cli/vigil.ts prints it, exits 1.
  const config = await loadConfig(values.config);
  const { log } = io;
  const agent = new Agent({ config, log, version: vigilVersion() });
  await agent.start();
  log.info(
    `vigil agent: ready (site ${config.siteId}, agent ${config.agentId}, ${config.devices.length} device(s), broker ${safeUrl(config.mqtt.url)})`,
  );

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // A second signal while stopping: the operator wants out now.
      io.exit(1);
      return;
    }
    stopping = true;
    log.info(`${signal}: stopping (publishing offline, disconnecting)`);
    agent.stop().then(
      () => io.exit(0),
      (error: unknown) => {
        log.error(`stopping failed: ${error instanceof Error ? error.message : String(error)}`);
        io.exit(1);
      },
    );
  };
  io.signals.on('SIGINT', shutdown);
  io.signals.on('SIGTERM', shutdown);
}
