/**
 * gptLoad/restartAdvice and gptLoad/secret/assess over JSON-RPC: the restart sentence for each
 * deployment laid out beside the `.env` (Compose file, Makefile, gpt-load binary, nothing — no
 * command guessed), in English and Chinese; a weak ENCRYPTION_KEY judged with GPT-Load's dashboard
 * and migrate-keys warnings, a strong one with none; the judged key never reaches the log.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { codecFor } from '../../server/core/crypto';
import { RestartAdviceRequest, SecretAssessRequest } from '../../shared/protocol';
import { startDaemon } from './daemon';

const COMPOSE = 'services:\n  llm-proxy:\n    image: ghcr.io/tbphp/gpt-load:latest\n    env_file: .env\n';

function deploymentDir(t: { after(fn: () => void): void }, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'glk-advice-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, '.env'), 'AUTH_KEY=Ab3-restart-advice-auth-key-0123456789\n');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

for (const locale of ['en', 'zh-CN']) {
  test(`restartAdvice (${locale}): the command only for the deployment found beside the .env`, async (t) => {
    const daemon = await startDaemon(t, { locale });
    const advice = (files: Record<string, string>) => daemon.rpc.sendRequest(RestartAdviceRequest.type, { deployment: { envFile: join(deploymentDir(t, files), '.env') } });

    const compose = await advice({ 'docker-compose.yml': COMPOSE });
    assert.equal(compose.kind, 'docker-compose');
    assert.equal(compose.command, 'docker compose up -d --force-recreate llm-proxy');
    assert.ok(compose.advice.endsWith(compose.command), compose.advice);

    const make = await advice({ Makefile: 'run:\n\tgo run .\n' });
    assert.deepEqual([make.kind, make.command], ['make', 'make run']);
    assert.match(make.advice, /make run/);

    const binary = await advice({ 'gpt-load': '' });
    assert.deepEqual([binary.kind, binary.command], ['binary', './gpt-load']);
    assert.match(binary.advice, /\.\/gpt-load/);

    const unknown = await advice({});
    assert.deepEqual([unknown.kind, unknown.command], ['unknown', null]);
    assert.doesNotMatch(unknown.advice, /\.\/gpt-load|make run|docker compose/);
    if (locale === 'zh-CN') for (const a of [compose, make, binary, unknown]) assert.match(a.advice, /请/);
    else assert.match(unknown.advice, /^Restart GPT-Load the way it is run here/);
  });
}

test('secret/assess: a weak ENCRYPTION_KEY gets the dashboard and migrate-keys warnings, a strong one none; never logged', async (t) => {
  const daemon = await startDaemon(t, { args: ['--log-level', 'trace'] });
  const weak = await daemon.rpc.sendRequest(SecretAssessRequest.type, { name: 'ENCRYPTION_KEY', value: 'abc123', asNewEncryptionKey: true });
  assert.equal(weak.strength.risk, 'high');
  assert.ok(weak.warnings.length >= 2, weak.warnings.join(' | '));
  assert.ok(weak.warnings.some((w) => /shorter than 16 characters/.test(w)), 'migrate-keys warning missing');
  assert.equal(weak.fingerprint, codecFor('abc123').fingerprint);
  // Without asNewEncryptionKey only the dashboard's judgement.
  const dashboard = await daemon.rpc.sendRequest(SecretAssessRequest.type, { name: 'ENCRYPTION_KEY', value: 'abc123' });
  assert.ok(dashboard.warnings.length < weak.warnings.length);
  const strong = await daemon.rpc.sendRequest(SecretAssessRequest.type, { name: 'ENCRYPTION_KEY', value: 'Zq8-Lm3_Vx7.Np2-Rt6_Kc9.Hs4-Wd1_Yb5.Gf0', asNewEncryptionKey: true });
  assert.deepEqual(strong.warnings, []);
  assert.ok(!daemon.stderr().includes('Zq8-Lm3_Vx7.Np2'), 'the judged key reached the log');
});
