import type { ParseArgsConfig } from 'node:util';

export interface Command {
  name: string;
  summary: string;
  /** Full help: usage line and options. */
  help: string;
  options?: ParseArgsConfig['options'];
  /** Names of the arguments it takes after its name (`<username>`); none when absent. */
  positionals?: string[];
  /** Runs the command; resolves with the exit code, or never for a server that keeps running. */
  run(
    values: Record<string, string | boolean | (string | boolean)[] | undefined>,
    positionals: string[],
  ): Promise<number>;
}

/** A mistake in how the command was called: printed with the command's help. */
export class UsageError extends Error {
  override name = 'UsageError';
}
