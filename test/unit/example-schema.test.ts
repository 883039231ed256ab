import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, fixturePath } from '../support/paths';

test("the example deployment's schema is GPT-Load's SQLite DDL, unchanged", () => {
  const ours = readFileSync(join(REPO_ROOT, 'scripts', 'fixtures', 'gpt-load-schema.sqlite.sql'), 'utf8');
  assert.equal(ours, readFileSync(fixturePath('ddl', 'sqlite.sql'), 'utf8'));
});
