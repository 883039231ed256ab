/** `generate-auth-key`: strong secrets that GPT-Load's dashboard accepts and .env keeps as written. */
import { DEFAULT_SECRET_LENGTH, generateSecret, MAX_SECRET_LENGTH, MIN_SECRET_LENGTH } from '../core/secrets';
import { KeystoreError, localize } from '../core/errors';
import type { CliCommand } from './command';
import { positiveInt } from './options';

const MAX_COUNT = 1000;

export const generateAuthKeyCommand: CliCommand = {
  name: 'generate-auth-key',
  summary: 'print random secrets for AUTH_KEY (or ENCRYPTION_KEY), one per line',
  help: `Usage: gpt-load-keystore generate-auth-key [--length N] [--count N]

Prints N random secrets, one per line. Each is drawn uniformly (crypto.randomInt) from letters,
digits and "-_." — characters that godotenv, Docker Compose, URLs (?key=) and shells take as
they are, so the secret can go into .env unquoted — and passes every check of GPT-Load's
dashboard: no weak pattern (key, admin, 123456, …), at least three character classes.

Options:
  --length N   characters per secret, ${MIN_SECRET_LENGTH}..${MAX_SECRET_LENGTH} (default ${DEFAULT_SECRET_LENGTH}; GPT-Load calls
               anything under 32 "short")
  --count N    how many secrets, 1..${MAX_COUNT} (default 1)

To put one into .env, prefer the editor command or write it with a tool that does not echo it;
never pass secrets on a command line you keep in shell history.

Exit codes: 0 ok, 2 usage (bad --length or --count).

Examples:
  gpt-load-keystore generate-auth-key
  gpt-load-keystore generate-auth-key --length 48 --count 3`,
  options: { length: { type: 'string' }, count: { type: 'string' } },
  async run(args, io) {
    const length = positiveInt(args, 'length', DEFAULT_SECRET_LENGTH, MIN_SECRET_LENGTH);
    const count = positiveInt(args, 'count', 1, 1);
    if (count > MAX_COUNT) {
      throw new KeystoreError('usage', { en: `--count takes at most ${MAX_COUNT}`, zh: `--count 最大为 ${MAX_COUNT}` });
    }
    const secrets = Array.from({ length: count }, () => generateSecret(length));
    io.stdout.write(secrets.join('\n') + '\n');
    if (length < 32) {
      io.stderr.write(
        localize(
          { en: `note: GPT-Load calls secrets under 32 characters short\n`, zh: `提示：GPT-Load 认为少于 32 个字符的密钥偏短\n` },
          io.lang,
        ),
      );
    }
    return 0;
  },
};
