/**
 * Is this `.env` tracked by git, ignored, or neither? Asked of git itself (no shell, no parsing of
 * .gitignore files): `git ls-files --error-unmatch` for tracked, `git check-ignore` for ignored.
 * Outside a work tree, or without git, the answer is 'no-repo'.
 *
 * The repository may be hostile: its config can name commands git runs (core.fsmonitor runs on
 * every index refresh, hooks, a pager). As VS Code's git extension does, those are switched off on
 * the command line — which wins over every config file — and system config is not read.
 */
import { execFile } from 'node:child_process';
import { devNull } from 'node:os';
import { basename, dirname } from 'node:path';

export type GitIgnoreState = 'tracked' | 'not-ignored' | 'ignored' | 'no-repo';

/** `-c` settings that keep a repository's config from running anything. */
const GIT_HARDENING = ['-c', 'core.fsmonitor=false', '-c', `core.hooksPath=${devNull}`, '-c', 'core.pager=cat', '-c', 'core.untrackedCache=false'];
const GIT_HARDENED_ENV: NodeJS.ProcessEnv = { GIT_OPTIONAL_LOCKS: '0', GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' };

function git(args: string[], cwd: string): Promise<number> {
  return new Promise((resolve) => {
    execFile('git', [...GIT_HARDENING, ...args], { cwd, timeout: 5000, windowsHide: true, env: { ...process.env, ...GIT_HARDENED_ENV } }, (err) => {
      if (!err) return resolve(0);
      const code = (err as { code?: unknown }).code;
      resolve(typeof code === 'number' ? code : -1);
    });
  });
}

export async function gitIgnoreState(file: string): Promise<GitIgnoreState> {
  const cwd = dirname(file);
  const name = basename(file);
  if ((await git(['rev-parse', '--is-inside-work-tree'], cwd)) !== 0) return 'no-repo';
  if ((await git(['ls-files', '--error-unmatch', '--', name], cwd)) === 0) return 'tracked';
  const ignored = await git(['check-ignore', '-q', '--', name], cwd);
  return ignored === 0 ? 'ignored' : ignored === 1 ? 'not-ignored' : 'no-repo';
}
