/**
 * Wires the daemon: the transport (stdio with a guarded stdout, node IPC, socket, pipe), LSP
 * lifecycle and language features, keystore requests, logging and shutdown.
 */
import {
  CodeActionKind,
  createConnection,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
  type Connection,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { DebugMemoryRequest } from '../../shared/protocol';
import { DAEMON_USAGE, parseDaemonArgs, type DaemonArgs } from './args';
import { registerBackupPruneRequest, registerBackupRequests } from './backups';
import { CodeActions } from './codeActions';
import { DatabaseChecks } from './dbcheck';
import { DiagnosticsScheduler } from './diagnostics';
import { notInitializedError } from './errors';
import { FrameGuard } from './frames';
import { registerEnvRequests } from './envRequests';
import { provideHover } from './hover';
import { registerKeystoreRequests } from './keystore';
import { registerMigrateRequest } from './migrate';
import { registerRedactLogsRequest } from './redactLogs';
import { registerProxyKeyRequests } from './proxyKeys';
import { registerAuditRequest } from './audit';
import { log } from './log';
import { listenForProgressCancel } from './progress';
import { langOf, Session } from './session';
import { protocolStdout } from './stdio';

const DAEMON_VERSION = '0.1.0';

/** Exit status after a broken frame on stdin: the stream cannot be re-aligned, the client restarts us. */
const BROKEN_FRAME_EXIT = 1;

function connect(args: DaemonArgs): Connection {
  if (args.transport === 'stdio') {
    const input = process.stdin.pipe(
      new FrameGuard((reason) => {
        log.error(`broken frame on stdin (${reason}): the stream cannot be re-aligned; exiting so the client restarts the daemon`);
        process.exit(BROKEN_FRAME_EXIT);
      }),
    );
    return createConnection(ProposedFeatures.all, input, protocolStdout);
  }
  // --node-ipc, --socket=N, --pipe=NAME: vscode-languageserver reads them from process.argv.
  return createConnection(ProposedFeatures.all);
}

export function startDaemon(argv: string[]): void {
  const parsed = parseDaemonArgs(argv, process.env);
  if (typeof parsed === 'string') {
    process.stderr.write(`gpt-load-keystore daemon: ${parsed}\n\n${DAEMON_USAGE}\n`);
    process.exit(2);
  }
  if (parsed.help || parsed.version) {
    process.stderr.write((parsed.version ? DAEMON_VERSION : DAEMON_USAGE) + '\n');
    process.exit(0);
  }
  if (!parsed.transport) {
    process.stderr.write(`gpt-load-keystore daemon: choose a transport\n\n${DAEMON_USAGE}\n`);
    process.exit(2);
  }
  try {
    log.configure({ level: parsed.logLevel, file: parsed.logFile });
  } catch (err) {
    process.stderr.write(`gpt-load-keystore daemon: cannot open the log file (${(err as NodeJS.ErrnoException).code ?? 'error'})\n`);
    process.exit(2);
  }
  // A bug in one handler must cost that request, not every open editor's features.
  process.on('uncaughtException', (err) => log.error(`uncaught ${err.name}: ${err.message}\n${err.stack ?? ''}`));
  process.on('unhandledRejection', (reason) => log.error(`unhandled rejection: ${reason instanceof Error ? `${reason.name}: ${reason.message}\n${reason.stack ?? ''}` : typeof reason}`));

  const connection = connect(parsed);
  const session = new Session(connection, parsed);
  const documents = new TextDocuments(TextDocument);
  const checks = new DatabaseChecks(session.stores, () => session.options.connectTimeoutMs + 10_000);
  const diagnostics = new DiagnosticsScheduler(session, documents, checks);
  const codeActions = new CodeActions(session, documents, checks);

  connection.onInitialize((params): InitializeResult => {
    // Editors that send no locale (Neovim, Helix) get the language of the daemon's environment, as the CLI does.
    const env = process.env;
    session.lang = langOf(params.locale ?? env.GPT_LOAD_KEYSTORE_LANG ?? env.LC_ALL ?? env.LC_MESSAGES ?? env.LANG);
    session.applyInitializationOptions(params.initializationOptions);
    const caps = params.capabilities;
    session.canCreateProgress = caps.window?.workDoneProgress === true;
    session.canCreateFiles = caps.workspace?.workspaceEdit?.resourceOperations?.includes('create') === true && caps.workspace?.workspaceEdit?.documentChanges === true;
    codeActions.canResolveEdits = caps.textDocument?.codeAction?.resolveSupport?.properties.includes('edit') === true;
    // The library has just installed its own window/workDoneProgress/cancel handler (when the
    // client declares workDoneProgress), replacing ours; it cancels only the library's own progress
    // objects, which the daemon does not use. Ours goes back in, after it.
    listenForProgressCancel(connection);
    session.initialized = true;
    log.info(`daemon ${DAEMON_VERSION} started (${parsed.transport}, ${session.lang}, node ${process.versions.node})`);
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix], resolveProvider: true },
        hoverProvider: true,
      },
      serverInfo: { name: 'gpt-load-keystore', version: DAEMON_VERSION },
    };
  });

  documents.onDidOpen((e) => diagnostics.schedule(e.document, true));
  documents.onDidChangeContent((e) => diagnostics.schedule(e.document));
  documents.onDidClose((e) => diagnostics.close(e.document.uri));
  // Before initialize: -32002, as LSP requires (and nothing runs before the client said whether it trusts the folder).
  const ready = <P, R>(handler: (params: P) => R) => (params: P) => (session.initialized ? handler(params) : notInitializedError());
  connection.onCodeAction(ready((params) => guard('codeAction', () => codeActions.provide(params), [])));
  connection.onCodeActionResolve(ready((action) => guard('codeAction/resolve', () => codeActions.resolve(action), action)));
  connection.onHover(ready((params) => guard('hover', () => provideHover(params, session, documents, checks), null)));
  connection.onDidChangeConfiguration(() => {
    checks.clear();
    diagnostics.refreshAll();
  });

  registerKeystoreRequests(session);
  registerEnvRequests(session);
  const dataChanged = () => {
    checks.clear();
    diagnostics.refreshAll();
  };
  registerMigrateRequest(session, dataChanged);
  registerRedactLogsRequest(session, dataChanged);
  registerBackupRequests(session, dataChanged);
  registerBackupPruneRequest(session);
  registerProxyKeyRequests(session, dataChanged);
  registerAuditRequest(session);
  if (parsed.debugMethods) {
    session.onRequest(DebugMemoryRequest.type, () => {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      const { heapUsed, rss } = process.memoryUsage();
      return { heapUsed, rss, collected: gc !== undefined };
    });
  }
  // Clients that do not declare workDoneProgress keep this one (see onInitialize).
  listenForProgressCancel(connection);

  connection.onShutdown(async () => {
    log.info('shutdown requested');
    await session.stores.closeAll();
  });

  documents.listen(connection);
  connection.listen();
}

/** A feature request that fails answers "nothing" instead of an error popup; the log keeps why. */
function guard<T>(what: string, run: () => T, fallback: T): T {
  try {
    return run();
  } catch (err) {
    log.error(`${what} failed: ${(err as Error).name}: ${(err as Error).message}`);
    return fallback;
  }
}
