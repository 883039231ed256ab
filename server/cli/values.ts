/** `encrypt`, `decrypt`, `hash`: GPT-Load's transforms over stdin lines, for scripts and checks. */
import { createInterface } from 'node:readline';
import { codecFor, DecryptError, type KeyCodec } from '../core/crypto';
import { loadEnv } from '../core/env';
import { EXIT_CODES, KeystoreError } from '../core/errors';
import { resolve } from 'node:path';
import type { CliCommand, CliIO, ParsedArgs } from './command';
import { str } from './options';

/** --key, then the ENCRYPTION_KEY environment variable, then --env FILE; none = disabled mode. */
export function keyFromArgs(args: ParsedArgs, io: CliIO): string {
  const key = str(args, 'key');
  if (key !== undefined) return key;
  if (io.env.ENCRYPTION_KEY !== undefined) return io.env.ENCRYPTION_KEY;
  const envFile = str(args, 'env');
  if (envFile === undefined) return '';
  const env = loadEnv(resolve(io.cwd, envFile), {});
  if (!env.exists) throw new KeystoreError('env-missing', { en: `${envFile} does not exist`, zh: `${envFile} 不存在` });
  if (env.doc.error) {
    throw new KeystoreError('env-parse', { en: `${envFile}: godotenv refuses this file: ${env.doc.error.message}`, zh: `${envFile}：godotenv 无法解析此文件：${env.doc.error.message}` });
  }
  return env.get('ENCRYPTION_KEY') ?? '';
}

function valueCommand(name: 'encrypt' | 'decrypt' | 'hash', summary: string, transform: (codec: KeyCodec, line: string, lineNo: number) => string): CliCommand {
  return {
    name,
    summary,
    help: `Usage: gpt-load-keystore ${name} [--key KEY | --env FILE] < values.txt

Reads one value per line on stdin and writes one result per line on stdout, exactly as GPT-Load
would store it. The key comes from --key, else the ENCRYPTION_KEY environment variable, else
ENCRYPTION_KEY in --env FILE; with no key, GPT-Load's disabled mode applies (values stored as
plaintext, hashed with SHA-256). Prefer ENCRYPTION_KEY in the environment or --env over --key:
a key on the command line lands in shell history and \`ps\`.

Exit codes: 0 ok, 3 .env unreadable, 4 a value did not decrypt (its line is left empty on stdout
and named on stderr; every other line is still processed).

Example:
  printf 'sk-abc\\n' | ENCRYPTION_KEY=… gpt-load-keystore ${name}`,
    options: { key: { type: 'string' }, env: { type: 'string' } },
    async run(args, io) {
      const codec = codecFor(keyFromArgs(args, io));
      let lineNo = 0;
      let failures = 0;
      for await (const line of createInterface({ input: io.stdin, crlfDelay: Infinity })) {
        lineNo++;
        try {
          io.stdout.write(transform(codec, line, lineNo) + '\n');
        } catch (err) {
          if (!(err instanceof DecryptError)) throw err;
          failures++;
          io.stdout.write('\n');
          io.stderr.write(`line ${lineNo}: ${err.message.replace(/^row \d+: /, '')}\n`);
        }
      }
      return failures > 0 ? EXIT_CODES['decrypt-failed'] : 0;
    },
  };
}

export const encryptCommand = valueCommand('encrypt', 'encrypt values (stdin lines) as GPT-Load stores them', (codec, line) => codec.encrypt(line));
export const decryptCommand = valueCommand('decrypt', 'decrypt stored values (stdin lines); prints plaintext keys', (codec, line, lineNo) => codec.decrypt(line, lineNo));
export const hashCommand = valueCommand('hash', "compute GPT-Load's key_hash of values (stdin lines)", (codec, line) => codec.hash(line));
