/**
 * The GPT-Load deployment the VS Code tests work on: a workspace folder that is GPT-Load's working
 * directory (`.env` with encryption off, `data/gpt-load.db` seeded with plaintext keys, through
 * test/support/databases.ts), a second `.env` with weak secrets and no database, and the fixture
 * file the extension-host suite reads (suite/support/fixture.ts).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { createGptLoadDatabase, type GptLoadDatabase } from '../support/databases';
import { FIXTURE_ENV, type Fixture } from './suite/support/fixture';

export interface TestDeployment {
  db: GptLoadDatabase;
  fixture: Fixture;
  /** Environment for code-server (the extension host inherits it). */
  env: Record<string, string>;
}

export async function createTestDeployment(t: TestContext, keys = 80): Promise<TestDeployment> {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys, logs: 30, encryptionKey: '', env: true });
  if (!db?.seeded) throw new Error('could not create the SQLite deployment');
  const weakDir = join(db.envDir, 'lint-sample');
  mkdirSync(weakDir);
  writeFileSync(join(weakDir, '.env'), 'AUTH_KEY=admin123\nENCRYPTION_KEY=\nPORT=3001\n');
  const fixture: Fixture = {
    workspace: db.envDir,
    envFile: join(db.envDir, '.env'),
    weakEnvFile: join(weakDir, '.env'),
    keys: db.seeded.keys,
    groups: db.seeded.groups.map((g) => ({ id: g.id, name: g.name, displayName: g.display_name, channelType: g.channel_type, active: g.active, invalid: g.invalid })),
    samples: [...db.plaintexts].slice(0, 3).map(([id, plaintext]) => ({ id, plaintext })),
  };
  // Outside the workspace, so the extension never sees it as part of the deployment.
  const fixtureFile = join(mkdtempSync(join(tmpdir(), 'glk-fixture-')), 'fixture.json');
  writeFileSync(fixtureFile, JSON.stringify(fixture, null, 2));
  return { db, fixture, env: { [FIXTURE_ENV]: fixtureFile } };
}
