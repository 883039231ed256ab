/**
 * Is this `.env` tracked by git, ignored, or neither? Asked of git itself (no shell, no parsing of
 * .gitignore files): `git ls-files --error-unmatch` for tracked, `git check-ignore` for ignored.
 * Outside a work tree, or without git, the answer is 'no-repo'.
 */
import { execFile } from 'node:child_process';
import { basename, dirname } from 'node:path';

export type GitIgnoreState = 'tracked' | 'not-ignored' | 'ignored' | 'no-repo';

function git(args: string[], cwd: string): Promise<number> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, timeout: 5000, windowsHide: true, env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } }, (err) => {
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
