// The daemon's params checks (server/daemon/params.ts): one error per bad request, naming the field
// and what was expected, never the value; InvalidParams for another type, usage for the rest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeystoreError } from '../../server/core/errors';
import { InvalidParamsError } from '../../server/daemon/errors';
import { checkParams, deploymentRef, flag, integer, oneOf, optional, strings, text, textOrNull, type ParamsSpec } from '../../server/daemon/params';
import type { DeploymentRef, EnvWriteRequest, KeyStatus, RedactLogsRequest } from '../../shared/protocol';

/** A request's Params, of each kind of field. */
interface Query {
  deployment: DeploymentRef;
  status?: KeyStatus;
  groupName?: string;
  value?: string;
  limit?: number;
}

const querySpec: ParamsSpec<Query> = {
  deployment: deploymentRef,
  status: optional(oneOf<KeyStatus>(['active', 'invalid'])),
  groupName: optional(text(255)),
  value: optional(text(64)),
  limit: optional(integer(1, 1000)),
};

function refused(params: unknown, kind: 'invalid-params' | 'usage', field: string, expected: RegExp) {
  assert.throws(
    () => checkParams(querySpec, params),
    (err: unknown) => {
      assert.ok(err instanceof KeystoreError);
      assert.equal(err.code, 'usage');
      assert.equal(err instanceof InvalidParamsError, kind === 'invalid-params', `${field}: ${kind}`);
      assert.deepEqual(err.details, { field });
      assert.match(err.text.en, new RegExp(`^invalid params: '${field.replace('.', '\\.')}' must be `));
      assert.match(err.text.en, expected);
      assert.match(err.text.zh, new RegExp(`^参数无效：'${field.replace('.', '\\.')}' 必须是`));
      return true;
    },
    JSON.stringify(params),
  );
}

const envFile = '/srv/gpt-load/.env';

test('checked params: the fields of the spec, file: URIs as paths, null and absent optional fields left out, unknown fields dropped', () => {
  assert.deepEqual(checkParams(querySpec, { deployment: { envFile: 'file:///srv/gpt-load/.env', dsn: null }, status: 'active', limit: null, extra: 1 }), {
    deployment: { envFile },
    status: 'active',
  });
  const envWrite: ParamsSpec<EnvWriteRequest.Params> = { envFile: text(), key: text(255), value: textOrNull };
  assert.deepEqual(checkParams(envWrite, { envFile: 'x', key: 'A', value: null }), { envFile: 'x', key: 'A', value: null });
  // Absent params are an empty object, as JSON-RPC allows for a request without params.
  assert.deepEqual(checkParams({ dryRun: optional(flag) }, undefined), {});
  assert.deepEqual(checkParams({ dryRun: optional(flag) }, null), {});
});

test('a field of another type, or params that are no object, is InvalidParams naming the field', () => {
  refused([1, 2], 'invalid-params', 'params', /one object/);
  refused('x', 'invalid-params', 'params', /one object/);
  refused({ deployment: '/srv/.env' }, 'invalid-params', 'deployment', /an object \{ envFile, dsn\?, dbHost\? \}/);
  refused({ deployment: { envFile: 7 } }, 'invalid-params', 'deployment.envFile', /an absolute path or a file: URI/);
  refused({ deployment: { envFile }, limit: 'many' }, 'invalid-params', 'limit', /a whole number 1\.\.1000/);
  refused({ deployment: { envFile }, status: 'deleted' }, 'invalid-params', 'status', /one of active, invalid/);
  refused({ deployment: { envFile }, groupName: false }, 'invalid-params', 'groupName', /a string/);
  assert.throws(() => checkParams({ dryRun: optional(flag) }, { dryRun: 'yes' }), (err) => err instanceof InvalidParamsError && /'dryRun' must be true or false/.test(err.message));
  assert.throws(() => checkParams({ values: strings(5) }, { values: [1] }), (err) => err instanceof InvalidParamsError && /a list of at most 5 strings/.test(err.message));
});

test('a missing field, or a value beyond the limits of its type, is a usage error naming the field; the value is never in it', () => {
  refused(null, 'usage', 'deployment', /an object/);
  refused({}, 'usage', 'deployment', /an object/);
  refused({ deployment: {} }, 'usage', 'deployment.envFile', /an absolute path/);
  refused({ deployment: { envFile: 'relative/.env' } }, 'usage', 'deployment.envFile', /an absolute path/);
  refused({ deployment: { envFile: '/tmp/\0/.env' } }, 'usage', 'deployment.envFile', /an absolute path/);
  refused({ deployment: { envFile: 'file://host/%%' } }, 'usage', 'deployment.envFile', /an absolute path/);
  refused({ deployment: { envFile }, limit: 0 }, 'usage', 'limit', /a whole number 1\.\.1000/);
  refused({ deployment: { envFile }, limit: 1.5 }, 'usage', 'limit', /a whole number 1\.\.1000/);
  const secret = `sk-${'s'.repeat(70)}`;
  refused({ deployment: { envFile }, value: secret }, 'usage', 'value', /a string of at most 64 characters/);
  assert.throws(() => checkParams(querySpec, { deployment: { envFile }, value: secret }), (err: Error) => !err.message.includes('sk-'));
  assert.throws(() => checkParams({ values: strings(1) }, { values: ['a', 'b'] }), (err) => err instanceof KeystoreError && !(err instanceof InvalidParamsError));
});

test('a spec names exactly the fields of its Params, so renaming one in shared/protocol.ts fails to compile (tsc --noEmit -p .)', () => {
  const spec: ParamsSpec<RedactLogsRequest.Params> = { deployment: deploymentRef, dryRun: optional(flag), force: optional(flag), backup: optional(flag) };
  // @ts-expect-error a field Params does not have (as after a rename)
  const renamed: ParamsSpec<RedactLogsRequest.Params> = { deployment: deploymentRef, dryRun: optional(flag), force: optional(flag), makeBackup: optional(flag) };
  // @ts-expect-error an optional check for a required field
  const loose: ParamsSpec<Query> = { ...querySpec, deployment: optional(deploymentRef) };
  // @ts-expect-error a check of another type
  const retyped: ParamsSpec<RedactLogsRequest.Params> = { ...spec, dryRun: optional(text()) };
  assert.ok(spec && renamed && loose && retyped);
});
