import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The repository root (tests run from any folder). */
export const REPO_ROOT = resolve(__dirname, '..', '..');

/**
 * A file under test/fixtures/gpt-load/: data made by GPT-Load's own code and godotenv's
 * (where each came from: test/fixtures/gpt-load/README.md). The clone carries it all.
 */
export function fixturePath(...parts: string[]): string {
  const full = join(REPO_ROOT, 'test', 'fixtures', 'gpt-load', ...parts);
  if (!existsSync(full)) throw new Error(`fixture not found at ${full}`);
  return full;
}

/** A temporary folder holding `files` (relative paths, subfolders made), removed after the test. */
export function folderWith(t: { after(fn: () => void): void }, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'glk-files-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}
