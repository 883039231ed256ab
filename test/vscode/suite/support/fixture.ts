/**
 * What the node side (../../deployment.ts) prepared for the extension-host suite: a GPT-Load
 * SQLite deployment in the workspace folder, and a few of its plaintext keys to check against.
 * Handed over through a JSON file named by $GLK_VSCODE_FIXTURE (code-server's environment reaches
 * the extension host).
 */
import { readFileSync } from 'node:fs';

export interface FixtureGroup {
  id: number;
  name: string;
  displayName: string;
  channelType: string;
  active: number;
  invalid: number;
}

export interface Fixture {
  /** The workspace folder = GPT-Load's working directory. */
  workspace: string;
  /** <workspace>/.env of the SQLite deployment (encryption off, plaintext keys). */
  envFile: string;
  /** A second `.env` with weak secrets and no database (lint only). */
  weakEnvFile: string;
  keys: number;
  groups: FixtureGroup[];
  /** Some api_keys ids with their plaintext keys. */
  samples: Array<{ id: number; plaintext: string }>;
}

export const FIXTURE_ENV = 'GLK_VSCODE_FIXTURE';

export function readFixture(): Fixture {
  const path = process.env[FIXTURE_ENV];
  if (!path) throw new Error(`$${FIXTURE_ENV} is not set: run the suite through test/vscode/extension.test.ts`);
  return JSON.parse(readFileSync(path, 'utf8')) as Fixture;
}

/** The value of KEY in a .env as written by our tools (unquoted or single/double-quoted, one line). */
export function envValue(file: string, key: string): string | undefined {
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(`${key}=`));
  return line?.slice(key.length + 1).replace(/^(['"])(.*)\1$/, '$2');
}
