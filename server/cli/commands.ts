import type { CliCommand } from './command';
import { generateAuthKeyCommand } from './generateAuthKey';
import { keysListCommand } from './keys';
import { lintCommand } from './lint';
import { parseEnvCommand } from './parseEnv';
import { statusCommand } from './status';
import { decryptCommand, encryptCommand, hashCommand } from './values';

/** Every CLI command; each lives in its own module under server/cli/. */
export const COMMANDS: CliCommand[] = [statusCommand, keysListCommand, encryptCommand, decryptCommand, hashCommand, parseEnvCommand, lintCommand, generateAuthKeyCommand];
