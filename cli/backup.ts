/**
 * `vigil backup` and `vigil restore` (docs/BACKUP.md): argv only; the work is in
 * broker/backup/backup.ts.
 *
 *   vigil backup --config broker.yaml --out /var/backups/vigil/20261207T0300
 *   vigil restore --from /var/backups/vigil/20261207T0300 --config broker.yaml [--force]
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { backup, NOT_COVERED, restore } from '../broker/backup/backup.js';
import { loadConfig } from '../broker/config.js';

const BACKUP_USAGE = `usage: vigil backup [--config FILE] --out DIR
  copies, while the broker runs: every SQLite file of its data folder (online backup),
  its PostgreSQL database (pg_dump, when database.url is set), the config file and the
  TLS keys, certificates and password file it names, with a manifest of SHA-256 sums.
  DIR must be new or empty. docs/BACKUP.md: schedule, what is not covered, a restore drill.`;

const RESTORE_USAGE = `usage: vigil restore --from DIR [--config FILE] [--force]
  checks every file of the backup against its manifest, then puts the SQLite files into
  the config's data folder, pg_restores the dump into database.url, and puts back the
  config and credential files that are missing. Refused while a broker runs on the data
  folder; existing files or tables are replaced only with --force.`;

type Values = Record<string, string | boolean | undefined>;

/** parseArgs, its complaints said with the usage (exit code 2); null then. */
function parsed(argv: string[], options: ParseArgsConfig['options'], usage: string): Values | null {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false })
      .values as Values;
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${usage}`);
    process.exitCode = 2;
    return null;
  }
}

export async function backupMain(argv: string[]): Promise<void> {
  const values = parsed(
    argv,
    { config: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    BACKUP_USAGE,
  );
  if (!values) return;
  if (values.help) return void console.log(BACKUP_USAGE);
  if (typeof values.out !== 'string') {
    console.error(`--out is required: the new folder to write the backup into\n\n${BACKUP_USAGE}`);
    process.exitCode = 2;
    return;
  }
  const configFile = typeof values.config === 'string' ? resolve(values.config) : null;
  const config = loadConfig(configFile ?? undefined);
  const out = resolve(values.out);
  const started = Date.now();
  const manifest = await backup({ config, configFile, out, say: (line) => console.log(line) });
  const bytes = manifest.files.reduce((sum, f) => sum + f.bytes, 0);
  console.log(
    `backup of ${config.dataDir} in ${out}: ${manifest.files.length} file(s), ${bytes} bytes, ${Date.now() - started} ms`,
  );
  console.log(['not in this backup:', ...NOT_COVERED.map((line) => `  - ${line}`)].join('\n'));
}

export async function restoreMain(argv: string[]): Promise<void> {
  const values = parsed(
    argv,
    {
      from: { type: 'string' },
      config: { type: 'string' },
      force: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    RESTORE_USAGE,
  );
  if (!values) return;
  if (values.help) return void console.log(RESTORE_USAGE);
  if (typeof values.from !== 'string') {
    console.error(`--from is required: the folder vigil backup wrote\n\n${RESTORE_USAGE}`);
    process.exitCode = 2;
    return;
  }
  const configFile = typeof values.config === 'string' ? resolve(values.config) : undefined;
  if (configFile && !existsSync(configFile)) {
    console.error(
      `${configFile} does not exist: copy the config from the backup first (its files/ folder; manifest.json says which is the config), edit it for this machine, and give it with --config`,
    );
    process.exitCode = 2;
    return;
  }
  const config = loadConfig(configFile);
  const from = resolve(values.from);
  await restore({
    from,
    config,
    ...(configFile ? { configFile } : {}),
    force: values.force === true,
    say: (line) => console.log(line),
  });
  console.log(
    `restored ${from} into ${config.dataDir}${config.database ? ' and the database' : ''}; start the broker and check it (docs/BACKUP.md, the restore drill)`,
  );
}
