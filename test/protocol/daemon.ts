/**
 * Drives the built daemon (dist/server.js) over stdio with a plain JSON-RPC client, as any editor
 * would: spawn, initialize, document notifications, requests, diagnostics collected per URI,
 * shutdown/exit. stderr is kept for the tests that look at logs.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from 'vscode-jsonrpc/node';
import type { Diagnostic, InitializeResult, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import { REPO_ROOT } from '../support/paths';

export const SERVER_JS = join(REPO_ROOT, 'dist', 'server.js');

export interface DaemonOptions {
  args?: string[];
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
  locale?: string;
  initializationOptions?: unknown;
  /** Client capabilities beyond the defaults (workspace edits with file creation, resolve support). */
  capabilities?: Record<string, unknown>;
  /** Keep every byte of stdout for `stdout()` (tests that search the traffic). */
  recordStdout?: boolean;
}

export interface Daemon {
  child: ChildProcessWithoutNullStreams;
  rpc: MessageConnection;
  initialize: InitializeResult;
  stderr(): string;
  /** Raw bytes the daemon wrote to stdout that were not protocol messages (must stay empty). */
  strayStdout(): string;
  /** Everything the daemon wrote to stdout (with `recordStdout`). */
  stdout(): string;
  /** Whether a database check of `uri` has landed (its gptLoad/envDatabaseStatus arrived; the publish with its findings follows it). */
  databaseChecked(uri: string): boolean;
  /** Resolves with the next diagnostics for `uri` that satisfy `accept`. */
  diagnostics(uri: string, accept?: (d: Diagnostic[], version: number | undefined) => boolean): Promise<Diagnostic[]>;
  open(uri: string, text: string, languageId?: string, version?: number): void;
  change(uri: string, text: string, version: number): void;
  close(uri: string): void;
  stop(): Promise<number | null>;
}

export const DEFAULT_CAPABILITIES = {
  window: { workDoneProgress: true },
  workspace: { workspaceEdit: { documentChanges: true, resourceOperations: ['create', 'rename', 'delete'] } },
  textDocument: {
    publishDiagnostics: { versionSupport: true },
    codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ['quickfix'] } }, dataSupport: true },
    hover: { contentFormat: ['markdown', 'plaintext'] },
  },
};

export function fileUri(path: string): string {
  return pathToFileURL(path).toString();
}

/**
 * Starts the daemon and initializes it; stopped (shutdown/exit, else killed) when the test ends.
 */
export async function startDaemon(t: TestContext, options: DaemonOptions = {}): Promise<Daemon> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), SERVER_JS, '--stdio', ...(options.args ?? [])], {
    env: { ...process.env, ...options.env },
    stdio: 'pipe',
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  let stray = '';
  // Every byte on stdout must belong to a Content-Length framed message: checked by a tee.
  const framing = { buffer: Buffer.alloc(0) };
  const recorded: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    if (options.recordStdout) recorded.push(chunk);
    framing.buffer = Buffer.concat([framing.buffer, chunk]);
    for (;;) {
      const text = framing.buffer.toString('latin1');
      if (text.length === 0) break;
      const m = /^Content-Length: (\d+)\r\n(?:[^\r\n]+\r\n)*\r\n/.exec(text);
      if (!m) {
        if (!'Content-Length: '.startsWith(text.slice(0, 16)) && !/^Content-Length: \d*(\r\n?)?/.test(text)) {
          stray += text;
          framing.buffer = Buffer.alloc(0);
        }
        break;
      }
      const total = m[0].length + Number(m[1]);
      if (framing.buffer.length < total) break;
      framing.buffer = framing.buffer.subarray(total);
    }
  });
  const rpc = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const published = new Map<string, PublishDiagnosticsParams[]>();
  const waiters: Array<{ uri: string; accept: (d: Diagnostic[], v: number | undefined) => boolean; resolve: (d: Diagnostic[]) => void }> = [];
  rpc.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
    const list = published.get(p.uri) ?? [];
    list.push(p);
    if (list.length > 50) list.shift();
    published.set(p.uri, list);
    for (const w of [...waiters]) {
      if (w.uri === p.uri && w.accept(p.diagnostics, p.version)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(p.diagnostics);
      }
    }
  });
  rpc.onRequest('window/workDoneProgress/create', () => null);
  rpc.onNotification('$/progress', () => undefined);
  const checkedUris = new Set<string>();
  rpc.onNotification('gptLoad/envDatabaseStatus', (p: { uri: string }) => {
    checkedUris.add(p.uri);
  });
  rpc.listen();

  let stopped = false;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (stopped) return exited;
    stopped = true;
    try {
      await Promise.race([rpc.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 5000))]);
      await rpc.sendNotification('exit');
    } catch {
      // already gone
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    const code = await exited;
    clearTimeout(timer);
    rpc.dispose();
    return code;
  };
  t.after(stop);

  const initialize = (await rpc.sendRequest('initialize', {
    processId: process.pid,
    rootUri: null,
    locale: options.locale ?? 'en',
    capabilities: { ...DEFAULT_CAPABILITIES, ...(options.capabilities ?? {}) },
    initializationOptions: options.initializationOptions,
  })) as InitializeResult;
  await rpc.sendNotification('initialized', {});

  return {
    child,
    rpc,
    initialize,
    stderr: () => stderr,
    strayStdout: () => stray,
    stdout: () => Buffer.concat(recorded).toString('utf8'),
    databaseChecked: (uri) => checkedUris.has(uri),
    diagnostics(uri, accept = () => true) {
      return new Promise((resolve) => waiters.push({ uri, accept, resolve }));
    },
    open(uri, text, languageId = 'dotenv', version = 1) {
      void rpc.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version, text } });
    },
    change(uri, text, version) {
      void rpc.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text }] });
    },
    close(uri) {
      void rpc.sendNotification('textDocument/didClose', { textDocument: { uri } });
    },
    stop,
  };
}
