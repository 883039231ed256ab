/**
 * The CLI in Chinese (LANG=zh_CN.UTF-8) through dist/cli.js on SQLite: status' group lines, the
 * keys list table and migrate-keys' progress lines (its backup's included) carry no English word;
 * phases stay identifiers only on the wire, and counts are written with Intl.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createGptLoadDatabase, type GptLoadDatabase } from '../support/databases';
import { REPO_ROOT } from '../support/paths';

const CLI = join(REPO_ROOT, 'dist', 'cli.js');
const KEY = 'Zh-Cli-7Hq2Wd5Lm9Tc3Vb8Xn1Kf4Gj6Ry0';
const NEW_KEY = 'Zh-New-3Kd8Lw2Qr6Tz9Vp4Xm7Nb1Hc5Gj0Y';
/** Identifiers that stay as they are in any language: GPT-Load's tables and channel types, our flags. */
const IDENTIFIERS = /--after\b|\b(api_keys|request_logs|system_settings|group_sub_groups|group_hourly_stats|groups|openai|gemini|anthropic|claude|openai-backup|openai-all|ID)\b/g;

function zh(db: GptLoadDatabase, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: db.envDir, encoding: 'utf8', timeout: 120_000, env: { PATH: process.env.PATH, LANG: 'zh_CN.UTF-8', ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The English words left in `text` once identifiers and masked keys are taken out. */
function englishWords(text: string): string[] {
  return text.replace(IDENTIFIERS, '').match(/\b[A-Za-z]{2,}\b/g) ?? [];
}

/** Progress lines ("phase: done/total …") of a run's stderr. */
function progressLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => /^[^:]+: [\d,]+\/[\d,]+/.test(line));
}

test('the CLI in Chinese: status groups, the keys list table and progress lines hold no English; counts are Intl-formatted', async (t) => {
  const db = await createGptLoadDatabase(t, 'sqlite', { keys: 12, logs: 5, encryptionKey: KEY, env: true });
  if (!db) return;
  const store = await db.open();
  await store.execute('UPDATE api_keys SET request_count = 1234567 WHERE id = 1');
  await store.close();

  const status = zh(db, ['status']);
  assert.equal(status.status, 0, status.stderr);
  const groups = status.stdout.slice(status.stdout.indexOf('分组:'));
  assert.match(groups, /^ {2}\S+ \[\S+\]: [\d,]+ 有效，[\d,]+ 无效$/m);
  assert.deepEqual(englishWords(groups.split('\n').slice(1).map((l) => l.replace(/^ {2}\S+ /, '')).join('\n')), [], groups);
  const classify = progressLines(status.stderr);
  assert.ok(classify.some((l) => l.startsWith('分类 api_keys: ')), status.stderr);
  assert.deepEqual(englishWords(classify.join('\n')), [], status.stderr);

  const list = zh(db, ['keys', 'list', '--limit', '5']);
  assert.equal(list.status, 0, list.stderr);
  const lines = list.stdout.trimEnd().split('\n');
  assert.match(lines[0], /^ID\s+分组\s+状态\s+密钥\s+请求数\s+失败数\s+最后使用\s+备注$/);
  assert.match(lines[1], /^1\s+\S+\s+(有效|无效)\s+\S+\s+1,234,567\s/);
  assert.match(lines.at(-1)!, /^-- 还有更多：--after 5$/);
  for (const row of lines.slice(1, -1)) {
    const [, , state, , requests, failures] = row.split(/\s{2,}/);
    assert.match(state, /^(有效|无效)$/, row);
    assert.match(requests + failures, /^[\d,]+$/, row);
  }
  assert.deepEqual(englishWords([lines[0], lines.at(-1)!].join('\n')), []);

  // Every phase of a migration, its backup's included.
  const migrate = zh(db, ['migrate-keys', '--from-env', 'ENCRYPTION_KEY', '--to-env', 'NEW_KEY', '--yes'], { NEW_KEY });
  assert.equal(migrate.status, 0, migrate.stderr);
  const phases = progressLines(migrate.stderr).map((l) => l.slice(0, l.indexOf(':')));
  for (const phase of ['预检查 api_keys', '复制数据库页', '备份 api_keys', '检查行', '写入 api_keys', '重建索引', '提交']) {
    assert.ok(phases.includes(phase), `${phase} missing: ${migrate.stderr}`);
  }
  assert.deepEqual(englishWords(progressLines(migrate.stderr).join('\n')), [], migrate.stderr);

  // No key at all is 明文 in the summary's key line, not the English sentinel.
  const disable = zh(db, ['migrate-keys', '--from-env', 'NEW_KEY', '--yes', '--no-backup'], { NEW_KEY });
  assert.equal(disable.status, 0, disable.stderr);
  assert.match(disable.stdout, /^ {2}密钥：[0-9a-f]{16} → 明文$/m);
});
