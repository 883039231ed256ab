/** `encrypt`, `decrypt`, `hash`: GPT-Load's transforms over stdin lines, for scripts and checks. */
import { createInterface } from 'node:readline';
import { codecFor, DecryptError, type DecryptFailure, type KeyCodec } from '../core/crypto';
import { describeEnvParseError, loadEnv } from '../core/env/read';
import { EXIT_CODES, KeystoreError, localize, type Localized } from '../core/errors';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CliCommand, CliIO, ParsedArgs } from './command';
import { str } from './options';

/** --key, then the ENCRYPTION_KEY environment variable, then --env FILE (default ./.env when there is one, as every other command); none = disabled mode. */
function keyFromArgs(args: ParsedArgs, io: CliIO): string {
  const key = str(args, 'key');
  if (key !== undefined) return key;
  if (io.env.ENCRYPTION_KEY !== undefined) return io.env.ENCRYPTION_KEY;
  const envFile = str(args, 'env') ?? (existsSync(resolve(io.cwd, '.env')) ? '.env' : undefined);
  if (envFile === undefined) return '';
  const env = loadEnv(resolve(io.cwd, envFile), {});
  if (!env.exists) throw new KeystoreError('env-missing', { en: `${envFile} does not exist`, zh: `${envFile} 不存在` });
  if (env.doc.error) {
    const why = describeEnvParseError(env.doc.error);
    throw new KeystoreError('env-parse', { en: `${envFile}: godotenv refuses this file: ${why.en}`, zh: `${envFile}：godotenv 无法解析此文件：${why.zh}` });
  }
  return env.get('ENCRYPTION_KEY') ?? '';
}

/** Why a line failed; never the value itself. */
const DECRYPT_FAILURES: Record<DecryptFailure, Localized> = {
  'not-hex': { en: 'not hex, so not a GPT-Load ciphertext', zh: '不是十六进制，不是 GPT-Load 的密文' },
  'too-short': { en: 'too short to be a GPT-Load ciphertext', zh: '太短，不是 GPT-Load 的密文' },
  'auth-failed': { en: 'authentication failed (wrong ENCRYPTION_KEY or corrupted value)', zh: '认证失败（ENCRYPTION_KEY 错误或数据损坏）' },
};
const MULTILINE: Localized = { en: 'the result contains a line break and cannot be printed one per line', zh: '结果包含换行符，无法逐行输出' };

/** stdout in chunks, waiting when the reader is slower than we are (a million lines stay bounded in memory). */
class LineWriter {
  private chunk = '';
  private lines = 0;
  constructor(private readonly stream: NodeJS.WritableStream) {}
  async line(text: string): Promise<void> {
    this.chunk += text + '\n';
    if (++this.lines >= 1000) await this.flush();
  }
  async flush(): Promise<void> {
    const text = this.chunk;
    this.chunk = '';
    this.lines = 0;
    if (text !== '' && !this.stream.write(text)) await new Promise<void>((resolve) => this.stream.once('drain', () => resolve()));
  }
}

function valueCommand(name: 'encrypt' | 'decrypt' | 'hash', summary: string, transform: (codec: KeyCodec, line: string, lineNo: number) => string): CliCommand {
  return {
    name,
    summary,
    help: `Usage: gpt-load-keystore ${name} [--key KEY | --env FILE] < values.txt

Reads one value per line on stdin and writes one result per line on stdout, exactly as GPT-Load
would store it. The key comes from --key, else the ENCRYPTION_KEY environment variable, else
ENCRYPTION_KEY in --env FILE (default ./.env when present); with no key, GPT-Load's disabled mode applies (values stored as
plaintext, hashed with SHA-256). Prefer ENCRYPTION_KEY in the environment or --env over --key:
a key on the command line lands in shell history and \`ps\`.

Exit codes: 0 ok, 2 bad flag, 3 .env unreadable, 4 a value did not decrypt or its result spans
several lines (its line is left empty on stdout and named on stderr, never quoted; every other
line is still processed).

Example:
  printf 'sk-abc\\n' | ENCRYPTION_KEY=… gpt-load-keystore ${name}`,
    options: { key: { type: 'string' }, env: { type: 'string' } },
    async run(args, io) {
      const codec = codecFor(keyFromArgs(args, io));
      const out = new LineWriter(io.stdout);
      let lineNo = 0;
      let failures = 0;
      const fail = (why: Localized) => {
        failures++;
        io.stderr.write(localize({ en: `line ${lineNo}: ${why.en}`, zh: `第 ${lineNo} 行：${why.zh}` }, io.lang) + '\n');
        return out.line('');
      };
      for await (const line of createInterface({ input: io.stdin, crlfDelay: Infinity })) {
        lineNo++;
        let result: string;
        try {
          result = transform(codec, line, lineNo);
        } catch (err) {
          if (!(err instanceof DecryptError)) throw err;
          await fail(DECRYPT_FAILURES[err.reason]);
          continue;
        }
        // Printed as is, a line break would shift every later result off its input line.
        if (/[\r\n]/.test(result)) await fail(MULTILINE);
        else await out.line(result);
      }
      await out.flush();
      return failures > 0 ? EXIT_CODES['decrypt-failed'] : 0;
    },
  };
}

export const encryptCommand = valueCommand('encrypt', 'encrypt values (stdin lines) as GPT-Load stores them', (codec, line) => codec.encrypt(line));
export const decryptCommand = valueCommand('decrypt', 'decrypt stored values (stdin lines); prints plaintext keys', (codec, line, lineNo) => codec.decrypt(line, lineNo));
export const hashCommand = valueCommand('hash', "compute GPT-Load's key_hash of values (stdin lines)", (codec, line) => codec.hash(line));
