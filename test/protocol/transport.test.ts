/** The daemon over node IPC (`--node-ipc`, the VS Code client's transport) and its command line. */
import assert from 'node:assert/strict';
import { fork, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { createMessageConnection, IPCMessageReader, IPCMessageWriter } from 'vscode-jsonrpc/node';
import { GenerateSecretRequest } from '../../shared/protocol';
import { SERVER_JS } from './daemon';

test('--node-ipc: initialize, a request, shutdown and exit', async (t) => {
  const child = fork(SERVER_JS, ['--node-ipc'], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let stdout = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  t.after(() => child.kill());
  const rpc = createMessageConnection(new IPCMessageReader(child), new IPCMessageWriter(child));
  rpc.listen();
  const init = (await rpc.sendRequest('initialize', { processId: process.pid, rootUri: null, locale: 'zh-CN', capabilities: {} })) as { capabilities: { hoverProvider?: boolean } };
  assert.equal(init.capabilities.hoverProvider, true);
  await rpc.sendNotification('initialized', {});
  await assert.rejects(rpc.sendRequest(GenerateSecretRequest.type, { length: 8 }), (err: Error) => /参数无效：'length'/.test(err.message));
  assert.equal((await rpc.sendRequest(GenerateSecretRequest.type, {})).value.length, 32);
  await rpc.sendRequest('shutdown');
  await rpc.sendNotification('exit');
  assert.equal(await exited, 0);
  assert.equal(stdout, '', 'nothing on stdout');
});

test('command line: usage without a transport, --version, bad --log-level', () => {
  const none = spawnSync(process.execPath, [SERVER_JS], { encoding: 'utf8' });
  assert.equal(none.status, 2);
  assert.match(none.stderr, /--stdio \| --node-ipc/);
  assert.equal(none.stdout, '');
  const version = spawnSync(process.execPath, [SERVER_JS, '--version'], { encoding: 'utf8' });
  assert.equal(version.status, 0);
  const level = spawnSync(process.execPath, [SERVER_JS, '--stdio', '--log-level', 'loud'], { encoding: 'utf8', input: '' });
  assert.equal(level.status, 2);
  assert.match(level.stderr, /--log-level takes one of off, error, warn, info, debug, trace/);
});
