import { auditCommand } from './audit';
import { BACKUP_COMMANDS } from './backup';
import { backupPruneCommand } from './backupPrune';
import type { CliCommand } from './command';
import { generateAuthKeyCommand } from './generateAuthKey';
import { keysFindCommand, keysListCommand } from './keys';
import { lintCommand } from './lint';
import { migrateKeysCommand } from './migrateKeys';
import { parseEnvCommand } from './parseEnv';
import { proxyKeysListCommand, proxyKeysRemoveCommand } from './proxyKeys';
import { redactLogsCommand } from './redactLogs';
import { rotateAuthKeyCommand } from './rotateAuthKey';
import { statusCommand } from './status';
import { decryptCommand, encryptCommand, hashCommand } from './values';

/** Every CLI command; each lives in its own module under server/cli/. */
export const COMMANDS: CliCommand[] = [statusCommand, keysListCommand, keysFindCommand, encryptCommand, decryptCommand, hashCommand, parseEnvCommand, lintCommand, generateAuthKeyCommand, migrateKeysCommand, ...BACKUP_COMMANDS, proxyKeysListCommand, proxyKeysRemoveCommand, backupPruneCommand, redactLogsCommand, auditCommand, rotateAuthKeyCommand];
