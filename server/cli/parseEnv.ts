/** `parse-env FILE`: the variables godotenv v1.5.1 reads from one file, as JSON. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describeEnvParseError, parseDotenv } from '../core/env/read';
import { KeystoreError, localize } from '../core/errors';
import { maskSecret } from '../core/secrets';
import type { CliCommand, CliIO } from './command';
import { flag, writeJson } from './options';

/** The text of a `.env` named on the command line; a missing file is 'env-missing'. */
export function readEnvArgument(file: string, io: CliIO): string {
  try {
    return readFileSync(resolve(io.cwd, file), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new KeystoreError('env-missing', { en: `${file} does not exist`, zh: `${file} 不存在` });
    throw new KeystoreError('io', { en: `cannot read ${file} (${code ?? 'error'})`, zh: `无法读取 ${file}（${code ?? 'error'}）` });
  }
}

export const parseEnvCommand: CliCommand = {
  name: 'parse-env',
  summary: 'print the variables godotenv (GPT-Load) reads from a .env file, as JSON',
  help: `Usage: gpt-load-keystore parse-env FILE [--mask]

Parses FILE exactly as GPT-Load's godotenv v1.5.1 does (godotenv.Parse: the file alone) and prints
the resulting map as JSON, keys sorted. It does not apply the process environment: when GPT-Load
starts, a variable already set in its environment wins over the file (godotenv.Load), and under
Docker Compose the container's variables come from Compose's own reading of env_file.

When godotenv refuses the file — GPT-Load then silently ignores ALL of it — prints
{"error": "<godotenv's message>"} instead and names the line and column on stderr. godotenv's
message quotes the rest of the file, secrets included.

Options:
  --mask    print values masked (first/last characters and length only), for sharing the output

Exit codes: 0 parsed, 1 godotenv refuses the file, 2 usage, 3 FILE does not exist, 10 unreadable.

Examples:
  gpt-load-keystore parse-env .env
  gpt-load-keystore parse-env /opt/gpt-load/.env --mask | jq -r .DATABASE_DSN`,
  options: { mask: { type: 'boolean' } },
  positionals: true,
  async run(args, io) {
    if (args.positionals.length !== 1) {
      throw new KeystoreError('usage', { en: 'parse-env takes exactly one FILE (see --help)', zh: 'parse-env 只接受一个 FILE 参数（见 --help）' });
    }
    const [file] = args.positionals;
    const doc = parseDotenv(readEnvArgument(file, io));
    if (doc.values === null) {
      writeJson(io, { error: doc.error!.message });
      io.stderr.write(
        localize(
          {
            en: `${file}: godotenv refuses this file (${describeEnvParseError(doc.error!).en}); GPT-Load ignores all of it\n`,
            zh: `${file}：godotenv 无法解析此文件（${describeEnvParseError(doc.error!).zh}）；GPT-Load 会忽略整个文件\n`,
          },
          io.lang,
        ),
      );
      return 1;
    }
    const mask = flag(args, 'mask');
    const values = doc.values;
    writeJson(io, Object.fromEntries(Object.keys(values).sort().map((k) => [k, mask ? maskSecret(values[k]) : values[k]])));
    return 0;
  },
};
