// `npm test`: builds, then runs every test file under test/ with node's test runner in one run,
// so one summary (tests / pass / fail / skipped) closes the output.
// Usage: node scripts/test.mjs [substring filter…]   e.g. `npm test -- unit/crypto`
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function findTests(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    // fixtures/ and suite/ hold files that run inside VS Code, not under node's test runner.
    if (statSync(path).isDirectory()) return name === 'fixtures' || name === 'suite' ? [] : findTests(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const files = findTests(join(root, 'test'))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(', ')}`);
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...files],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_OPTIONS: '' } },
);
process.exit(result.status ?? 1);
