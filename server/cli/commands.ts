import type { CliCommand } from './command';

/** Every CLI command; each lives in its own module under server/cli/. */
export const COMMANDS: CliCommand[] = [];
