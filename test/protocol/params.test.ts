/**
 * Bad params over the wire: one error naming the field and what was expected. A field of another
 * type than the protocol declares is JSON-RPC's InvalidParams (-32602); a missing field or a value
 * beyond the daemon's limits stays the keystore's `usage` error. Both carry data.code 'usage', in
 * the client's language, and never the value.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes } from 'vscode-languageserver-protocol';
import { EnvWriteRequest, GenerateSecretRequest, KeysRequest, KeystoreErrorCodes, MigrateRequest, RevealKeyRequest, type ErrorData } from '../../shared/protocol';
import { startDaemon } from './daemon';

interface WireError {
  code: number;
  message: string;
  data: ErrorData;
}

function answersWith(code: number, field: string, message: RegExp) {
  return (err: WireError) => {
    assert.equal(err.code, code, err.message);
    assert.deepEqual(err.data, { code: 'usage', details: { field } });
    assert.match(err.message, message);
    return true;
  };
}

test('params of another type are InvalidParams (-32602) naming the field and what was expected', async (t) => {
  const daemon = await startDaemon(t);
  const { rpc } = daemon;
  const envFile = '/srv/gpt-load/.env';
  await assert.rejects(rpc.sendRequest(GenerateSecretRequest.type, { length: '32' as never }), answersWith(ErrorCodes.InvalidParams, 'length', /^invalid params: 'length' must be a whole number 16\.\.256$/));
  await assert.rejects(
    rpc.sendRequest(KeysRequest.type, { deployment: { envFile: 7 as never } }),
    answersWith(ErrorCodes.InvalidParams, 'deployment.envFile', /^invalid params: 'deployment\.envFile' must be an absolute path or a file: URI$/),
  );
  const secret = 'sk-never-echoed-0123456789';
  await assert.rejects(rpc.sendRequest(MigrateRequest.type, { deployment: { envFile }, toKey: secret, dryRun: 'yes' as never }), (err: WireError) => {
    answersWith(ErrorCodes.InvalidParams, 'dryRun', /'dryRun' must be true or false/)(err);
    assert.ok(!JSON.stringify(err).includes(secret));
    return true;
  });
  await assert.rejects(rpc.sendRequest(EnvWriteRequest.type, { envFile, key: 'AUTH_KEY', value: 5 as never }), answersWith(ErrorCodes.InvalidParams, 'value', /'value' must be a string or null/));

  // Missing, or of the right type but beyond the limits: the usage error, as before.
  await assert.rejects(rpc.sendRequest(RevealKeyRequest.type, { deployment: { envFile } } as never), answersWith(KeystoreErrorCodes.usage, 'id', /^invalid params: 'id' must be a whole number 1\.\.\d+$/));
  await assert.rejects(rpc.sendRequest(GenerateSecretRequest.type, { length: 8 }), answersWith(KeystoreErrorCodes.usage, 'length', /'length' must be a whole number 16\.\.256/));
  assert.equal((await rpc.sendRequest(GenerateSecretRequest.type, { length: 16 })).value.length, 16, 'the daemon still serves');
});

test('the error speaks the client language', async (t) => {
  const daemon = await startDaemon(t, { locale: 'zh-CN' });
  await assert.rejects(daemon.rpc.sendRequest(KeysRequest.type, { deployment: { envFile: '/srv/.env' }, status: 'deleted' as never }), answersWith(ErrorCodes.InvalidParams, 'status', /^参数无效：'status' 必须是active、invalid 之一$/));
});
