import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository root (tests run from any folder). */
export const REPO_ROOT = resolve(__dirname, '..', '..');

/**
 * A folder of the workplace's shared/ tree (vectors, DDL). It sits beside the clone
 * (`../shared`); GPT_LOAD_SHARED overrides that for other layouts.
 */
export function sharedPath(...parts: string[]): string {
  const base = process.env.GPT_LOAD_SHARED ?? resolve(REPO_ROOT, '..', 'shared');
  const full = join(base, ...parts);
  if (!existsSync(full)) throw new Error(`shared data not found at ${full}: set GPT_LOAD_SHARED to the shared/ folder`);
  return full;
}
