import { existsSync } from 'node:fs';
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
