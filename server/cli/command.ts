import type { ParseArgsConfig } from 'node:util';
import type { Cancellation, Lang } from '../core/errors';

/** What a command may touch of its process; tests pass their own. */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
  lang: Lang;
  cancellation: Cancellation;
}

export type ParsedArgs = {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
};

export interface CliCommand {
  /** One or two words: `status`, `keys list`, `backup create`. */
  name: string;
  summary: string;
  /** Full --help text after the summary line: usage line, options, examples, exit codes. */
  help: string;
  options: NonNullable<ParseArgsConfig['options']>;
  positionals?: boolean;
  /** Returns the exit code; throws KeystoreError for failures. */
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}
