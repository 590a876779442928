/**
 * `vigil broker`: run the broker, or manage the agents' MQTT accounts.
 *
 *   vigil broker [--config FILE]
 *   vigil broker add-agent --site SITE [--name NAME] [--password-env VAR] [--data-dir DIR | --config FILE]
 *   vigil broker revoke-agent --site SITE --name NAME [--data-dir DIR | --config FILE]
 *   vigil broker list-agents [--data-dir DIR | --config FILE]
 *   vigil broker add-client --role console|internal --name NAME [--password-env VAR] [...]
 *   vigil broker revoke-client --role console|internal --name NAME [...]
 *
 * The account commands open the broker's store directly, also while a broker runs on it:
 * <dataDir>/vigil.db (SQLite WAL), or PostgreSQL when the config has database/url (or
 * VIGIL_DATABASE_URL); a running broker closes a revoked agent's connections within seconds.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AgentAccountError, AgentStore, type ClientRole } from './agents/store.js';
import { startBroker } from './app.js';
import { loadConfig } from './config.js';
import { openDatabase } from './db.js';
import { openStoreDatabase } from './sql/open.js';
import { consoleLog } from './log.js';

const USAGE = `usage:
  vigil broker [--config FILE]
      run the broker: MQTT for the agents, the pipeline, the API and the console
  vigil broker add-agent --site SITE [--name NAME] [--password-env VAR] [--data-dir DIR | --config FILE]
      create an agent's MQTT credentials (or replace its password) and print them once
  vigil broker revoke-agent --site SITE --name NAME [--data-dir DIR | --config FILE]
      refuse that agent from now on and close its connections
  vigil broker list-agents [--data-dir DIR | --config FILE]
      the agent accounts, active and revoked
  vigil broker add-client --role console|internal --name NAME [--password-env VAR] [--data-dir DIR | --config FILE]
      MQTT credentials for the console (reads the tree and $SYS) or an internal service
      (reads everything, publishes agent commands); printed once
  vigil broker revoke-client --role console|internal --name NAME [--data-dir DIR | --config FILE]
      refuse that account from now on and close its connections`;

/** A mistake on the command line: said on stderr with the usage, exit code 2. */
class UsageError extends Error {}

/** Runs node's parseArgs, turning its complaints into usage errors. */
function parsed<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/**
 * The accounts where the broker keeps them: with --data-dir, that folder's vigil.db; else
 * the config file's (its dataDir, or PostgreSQL when it names a database).
 */
async function openAgents(values: {
  'data-dir'?: string;
  config?: string;
}): Promise<{ agents: AgentStore; close(): Promise<void> }> {
  const config = values['data-dir'] === undefined ? loadConfig(values.config) : null;
  const dataDir = config ? config.dataDir : resolve(values['data-dir']!);
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'vigil.db');
  const sqlite = openDatabase(file);
  const db = openStoreDatabase({ sqlite, sqliteLabel: file, database: config?.database ?? null });
  const close = async (): Promise<void> => {
    await db.close();
    sqlite.close();
  };
  const agents = new AgentStore(db);
  try {
    await agents.start();
  } catch (error) {
    await close();
    throw error;
  }
  return { agents, close };
}

const storeOptions = {
  'data-dir': { type: 'string' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function addAgent(argv: string[]): Promise<void> {
  const { values } = parsed(() =>
    parseArgs({
      args: argv,
      options: {
        ...storeOptions,
        site: { type: 'string' },
        name: { type: 'string' },
        'password-env': { type: 'string' },
      },
      strict: true,
    }),
  );
  if (values.help) return void console.log(USAGE);
  if (values.site === undefined) throw new UsageError('--site is required');
  let password: string | undefined;
  const passwordEnv = values['password-env'];
  if (passwordEnv !== undefined) {
    password = process.env[passwordEnv];
    if (!password)
      throw new UsageError(`--password-env ${passwordEnv}: that environment variable is not set`);
  }
  const { agents, close } = await openAgents(values);
  try {
    const added = await agents.add(values.site, values.name, password);
    const fromEnv = passwordEnv !== undefined;
    const lines = [
      added.replaced
        ? `Replaced the password of agent ${added.agentId} of site ${added.siteId}; the old one no longer works.`
        : `Created agent ${added.agentId} of site ${added.siteId}.`,
      fromEnv
        ? `Its password is the value of ${passwordEnv}. Put the credentials in the agent's config (agent.yaml):`
        : "Its MQTT credentials, shown this once (the broker keeps only a hash); put them in the agent's config (agent.yaml):",
      '  mqtt:',
      `    username: ${added.username}`,
      `    password: ${fromEnv ? `<the value of ${passwordEnv}>` : added.password}`,
    ];
    console.log(lines.join('\n'));
  } finally {
    await close();
  }
}

async function revokeAgent(argv: string[]): Promise<void> {
  const { values } = parsed(() =>
    parseArgs({
      args: argv,
      options: { ...storeOptions, site: { type: 'string' }, name: { type: 'string' } },
      strict: true,
    }),
  );
  if (values.help) return void console.log(USAGE);
  if (values.site === undefined || values.name === undefined) {
    throw new UsageError('--site and --name are required');
  }
  const { agents, close } = await openAgents(values);
  try {
    if (await agents.revoke(values.site, values.name)) {
      console.log(
        `Revoked agent ${values.name} of site ${values.site}: the broker refuses it from now on and closes its open connections within seconds.`,
      );
    } else {
      console.error(
        `There is no active agent ${values.name} of site ${values.site}; \`vigil broker list-agents\` shows the accounts.`,
      );
      process.exitCode = 1;
    }
  } finally {
    await close();
  }
}

function roleOf(value: string | undefined): Exclude<ClientRole, 'agent'> {
  if (value === 'console' || value === 'internal') return value;
  throw new UsageError('--role must be console or internal');
}

async function addClient(argv: string[]): Promise<void> {
  const { values } = parsed(() =>
    parseArgs({
      args: argv,
      options: {
        ...storeOptions,
        role: { type: 'string' },
        name: { type: 'string' },
        'password-env': { type: 'string' },
      },
      strict: true,
    }),
  );
  if (values.help) return void console.log(USAGE);
  const role = roleOf(values.role);
  if (values.name === undefined) throw new UsageError('--name is required');
  const passwordEnv = values['password-env'];
  const password = passwordEnv !== undefined ? process.env[passwordEnv] : undefined;
  if (passwordEnv !== undefined && !password)
    throw new UsageError(`--password-env ${passwordEnv}: that environment variable is not set`);
  const { agents, close } = await openAgents(values);
  try {
    const added = await agents.addClient(role, values.name, password);
    console.log(
      [
        `${added.replaced ? 'Replaced the password of' : 'Created'} the ${role} account ${values.name}.`,
        passwordEnv !== undefined
          ? `Its password is the value of ${passwordEnv}.`
          : 'Its MQTT credentials, shown this once (the broker keeps only a hash):',
        `  username: ${added.username}`,
        `  password: ${passwordEnv !== undefined ? `<the value of ${passwordEnv}>` : added.password}`,
      ].join('\n'),
    );
  } finally {
    await close();
  }
}

async function revokeClient(argv: string[]): Promise<void> {
  const { values } = parsed(() =>
    parseArgs({
      args: argv,
      options: { ...storeOptions, role: { type: 'string' }, name: { type: 'string' } },
      strict: true,
    }),
  );
  if (values.help) return void console.log(USAGE);
  const role = roleOf(values.role);
  if (values.name === undefined) throw new UsageError('--name is required');
  const { agents, close } = await openAgents(values);
  try {
    if (await agents.revokeClient(role, values.name)) {
      console.log(`Revoked the ${role} account ${values.name}: the broker refuses it from now on.`);
    } else {
      console.error(`There is no active ${role} account ${values.name}.`);
      process.exitCode = 1;
    }
  } finally {
    await close();
  }
}

async function listAgents(argv: string[]): Promise<void> {
  const { values } = parsed(() => parseArgs({ args: argv, options: storeOptions, strict: true }));
  if (values.help) return void console.log(USAGE);
  const { agents, close } = await openAgents(values);
  try {
    const accounts = await agents.list();
    if (accounts.length === 0)
      console.log('No agent accounts yet: `vigil broker add-agent --site SITE` creates one.');
    for (const account of accounts) {
      const state = account.revokedAt ? `revoked ${account.revokedAt}` : 'active';
      console.log(
        `${account.username}\tsite ${account.siteId}\tagent ${account.agentId}\t${state}\tpassword set ${account.passwordSetAt}`,
      );
    }
  } finally {
    await close();
  }
}

async function run(argv: string[]): Promise<void> {
  const { values } = parsed(() =>
    parseArgs({
      args: argv,
      options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }),
  );
  if (values.help) return void console.log(USAGE);
  const config = loadConfig(values.config);
  const log = consoleLog('broker');
  const broker = await startBroker(config, { log });
  if (broker.generatedAdminPassword) {
    log.info(`admin password (shown once): ${broker.generatedAdminPassword}`);
  }
  log.info(`MQTT on ${broker.mqttUrl}, console and API on ${broker.httpUrl}`);

  await new Promise<void>((resolveStopped) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (signalled) {
        // A second Ctrl-C: the operator does not want to wait for the flush.
        log.warn(`${signal} again: exiting now`);
        process.exit(130);
      }
      signalled = true;
      log.info(`${signal}: stopping (flushing readings, closing connections)`);
      broker.stop().then(resolveStopped, (error: unknown) => {
        log.error(`stopping failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exitCode = 1;
        resolveStopped();
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  log.info('stopped');
  // Everything is closed; should a library still hold a socket, do not hang the shell.
  setTimeout(() => process.exit(), 2000).unref();
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'add-agent':
        return await addAgent(rest);
      case 'revoke-agent':
        return await revokeAgent(rest);
      case 'list-agents':
        return await listAgents(rest);
      case 'add-client':
        return await addClient(rest);
      case 'revoke-client':
        return await revokeClient(rest);
      default:
        return await run(argv);
    }
  } catch (error) {
    if (error instanceof AgentAccountError) {
      console.error(`vigil broker: ${error.message}`);
      process.exitCode = 1;
      return;
    }
    if (!(error instanceof UsageError)) throw error;
    console.error(`vigil broker: ${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
  }
}
