/** `lint [FILE...]`: the .env checks of the editor, for terminals and CI. */
import { basename, relative, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { composeSettingIn, findComposeFiles, isComposeFileName, looksLikeCompose } from '../core/compose';
import { readTextOrNull } from '../core/fs';
import { KeystoreError } from '../core/errors';
import { lintCompose, lintEnv, type Finding } from '../core/lint';
import { gitIgnoreState } from '../keystore/gitCheck';
import type { CliCommand } from './command';
import { str, writeJson } from './options';
import { readEnvArgument } from './parseEnv';

export const lintCommand: CliCommand = {
  name: 'lint',
  summary: "check .env files as GPT-Load reads them (syntax, secret strength, '$' expansion, git) and Compose files",
  help: `Usage: gpt-load-keystore lint [FILE...] [--format text|json] [--lang en|zh-CN]

Checks each FILE (default ./.env and the Compose files beside it) as GPT-Load reads it (godotenv v1.5.1):
  env-syntax / env-bom        godotenv refuses the file — GPT-Load then ignores all of it
  auth-key-missing            AUTH_KEY empty or absent (GPT-Load does not start)
  encryption-key-missing      stored API keys are kept in plain text
  secret-too-short, secret-short, secret-weak-pattern, secret-low-complexity
                              GPT-Load's own dashboard rules for AUTH_KEY and ENCRYPTION_KEY
  secret-placeholder          a value copied from the documentation (sk-123456, your-…)
  secret-reused               AUTH_KEY equals ENCRYPTION_KEY
  secret-expands              "$" inside a secret is expanded: GPT-Load reads something else
  undefined-variable          $NAME not defined earlier in the file reads as empty
  duplicate-key               an assignment overridden by a later one
  compose-disagrees           Docker Compose's env_file parser reads a different value
  env-not-ignored             the file is tracked by git, or not ignored (asks git itself)
Docker Compose files (docker-compose*.yml, compose*.yaml, or any file with a top-level services:):
  compose-literal-secret      AUTH_KEY or ENCRYPTION_KEY written literally under environment:
Values never appear in the output; at most a masked form (first/last characters, length).

Options:
  --format text|json   text (default): FILE:LINE:COL SEVERITY CODE MESSAGE, 1-based;
                       json: [{file, code, severity, message, range, data}], 0-based LSP ranges
  --lang en|zh-CN      message language (default from LANG)

Exit codes: 0 no error-level finding (warnings allowed), 1 at least one error-level finding,
2 usage, 3 a FILE does not exist, 10 unreadable.

Examples:
  gpt-load-keystore lint
  gpt-load-keystore lint deploy/.env --format json | jq '.[].code'
  gpt-load-keystore lint --lang zh-CN`,
  options: { format: { type: 'string' } },
  positionals: true,
  async run(args, io) {
    const format = str(args, 'format') ?? 'text';
    if (format !== 'text' && format !== 'json') {
      throw new KeystoreError('usage', { en: '--format takes text or json', zh: '--format 只接受 text 或 json' });
    }
    // Without FILEs: ./.env and the Compose files beside it, which decide what GPT-Load's container gets.
    const files =
      args.positionals.length > 0
        ? args.positionals
        : ['.env', ...findComposeFiles(io.cwd, existsSync, composeSettingIn(io.cwd, io.env, readTextOrNull)).map((f) => relative(io.cwd, f))];
    const results: Array<Finding & { file: string }> = [];
    for (const file of files) {
      const text = readEnvArgument(file, io);
      // A Compose file by name or content gets the editor's Compose checks, not godotenv's.
      const findings =
        isComposeFileName(file) || looksLikeCompose(text)
          ? lintCompose(text, basename(file), io.lang)
          : lintEnv(text, { lang: io.lang, ignoredByGit: await gitIgnoreState(resolve(io.cwd, file)) });
      for (const f of findings) results.push({ file, ...f });
    }
    if (format === 'json') {
      writeJson(
        io,
        results.map((r) => ({ file: r.file, code: r.code, severity: r.severity, message: r.message, range: r.range, data: r.data ?? {} })),
      );
    } else {
      for (const r of results) {
        io.stdout.write(`${r.file}:${r.range.start.line + 1}:${r.range.start.character + 1} ${r.severity} ${r.code} ${r.message}\n`);
      }
    }
    return results.some((r) => r.severity === 'error') ? 1 : 0;
  },
};
