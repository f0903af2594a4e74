#!/usr/bin/env node
// First: V8's settings are made before any of the server's code runs.
import './v8-flags.ts';
import { parseArgs } from 'node:util';
import { describeFailure } from '@pneumatic/api';
import { type Command, UsageError } from './cli/command.ts';
import { databaseCommands } from './cli/database-commands.ts';
import { operatorCommands } from './cli/operator-commands.ts';
import { serveCommand } from './cli/serve-command.ts';
import { userCommands } from './cli/user-commands.ts';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { StartupError } from './startup-error.ts';

// Read lazily: `--help` works without a valid environment.
let config: Config | undefined;
const getConfig = () => {
  config ??= loadConfig();
  return config;
};

const commands: Command[] = [
  serveCommand(getConfig),
  ...databaseCommands(getConfig),
  ...userCommands(getConfig),
  ...operatorCommands(getConfig),
];

const USAGE = `Usage: pneumatic <command> [options]

Commands:
${commands.map((c) => `  ${c.name.padEnd(20)} ${c.summary}`).join('\n')}

Run \`pneumatic <command> --help\` for a command's options.
Configuration comes from the environment; see the README.`;

async function main(argv: string[]): Promise<number> {
  const [name = 'serve', ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`Unknown command: ${name}\n\n${USAGE}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.help}\n`);
    return 0;
  }
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: command.options ?? {},
      strict: true,
      allowPositionals: command.positionals !== undefined,
    });
    const wanted = command.positionals ?? [];
    if (positionals.length !== wanted.length)
      throw new UsageError(
        wanted.length ? `expected ${wanted.map((name) => `<${name}>`).join(' ')}` : 'unexpected argument',
      );
    return await command.run(values, positionals);
  } catch (error) {
    if (
      error instanceof UsageError ||
      (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ||
      (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL'
    ) {
      process.stderr.write(`${(error as Error).message}\n\n${command.help}\n`);
      return 2;
    }
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const failure = describeFailure(error);
    if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
    else if (error instanceof StartupError) process.stderr.write(`pneumatic: ${error.message}\n`);
    else if (failure.log !== 'error') {
      // A refusal (a taken username, a short password) or an outage: its words are the answer.
      const issues = failure.issues?.map((i) => `${i.path.join('.')}: ${i.message}`);
      process.stderr.write(`${issues ? issues.join('\n') : failure.message}\n`);
    } else
      process.stderr.write(
        `pneumatic: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    process.exit(1);
  },
);
