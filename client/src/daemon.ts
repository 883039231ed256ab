/**
 * The daemon (dist/server.js) as a language client over node IPC: started lazily on first need,
 * on the Node chosen in runtime.ts, restarted when it crashes (up to a limit), and restartable by
 * command. Every request goes through `request`, which states whether it needs a trusted workspace
 * (in a restricted one such a request is never sent), starts the daemon when needed and fails with
 * `DaemonUnavailable` when it cannot run, so commands can say so and offer a restart.
 */
import * as vscode from 'vscode';
import type {
  CloseHandlerResult,
  ErrorHandler,
  ErrorHandlerResult,
  LanguageClient,
  LanguageClientOptions,
  RequestType,
  ServerOptions,
  State,
} from 'vscode-languageclient/node';
import type { WorkDoneProgressBegin, WorkDoneProgressEnd, WorkDoneProgressReport } from 'vscode-languageserver-protocol';
import type { InitializationOptions } from '../../shared/protocol';
import { DaemonUnavailable, UntrustedWorkspace } from './errors';
import { sharedLang, t } from './l10n';
import { protocol, type Protocol } from './protocol';
import { chooseRuntime, describeChoice, type RuntimeChoice } from './runtime';

export type DaemonState = 'stopped' | 'starting' | 'running' | 'failed';

/** Restarts within this window beyond this count mean the daemon keeps crashing: stop trying. */
const CRASH_WINDOW_MS = 3 * 60_000;
const MAX_RESTARTS = 4;

/** The env var through which the daemon learns where the shipped better_sqlite3.node is. */
const NATIVE_ENV = 'GPT_LOAD_KEYSTORE_NATIVE';

type ClientLibrary = Protocol;

/** LanguageClient with the extension's language (not only VS Code's) in `initialize`. */
function keystoreClientClass(lib: ClientLibrary) {
  return class KeystoreLanguageClient extends lib.LanguageClient {
    protected override getLocale(): string {
      return sharedLang();
    }
  };
}

/** LanguageClient's State.Running and State.Starting: the enum lives in the lazily loaded library. */
const RUNNING: State.Running = 2;
const STARTING: State.Starting = 3;

/** How a request is sent. */
export interface RequestOptions<P> {
  /**
   * true for every request of a keystore operation (it opens a database, Redis or GPT-Load
   * connection, or runs a process: the daemon refuses those with `untrusted`) and every one that
   * reveals a secret of a `.env`. In a restricted workspace such a request is not sent: it fails with
   * UntrustedWorkspace, whose message offers to trust the folder. false only for what a restricted
   * workspace may do, offline and showing no secret of it: a `.env`'s summary (the dashboard
   * warnings), a key's fingerprint, Generate AUTH_KEY.
   */
  needsTrust: boolean;
  /** A long request: the title of a cancellable progress notification fed by the daemon's work-done progress. */
  progress?: 'workDoneToken' extends keyof P ? string : never;
}

export interface DaemonOptions {
  extensionUri: vscode.Uri;
  output: vscode.LogOutputChannel;
  /** gptLoad.daemon.runtime, read at each start. */
  runtimeSetting: () => string;
  /** Whether the workspace is trusted, read at each start (untrusted: .env linting only). */
  trusted: () => boolean;
  /** Called when the client exists, before it starts, to register notification handlers (requests go through `request`). */
  onClient?: (client: Pick<LanguageClient, 'onNotification'>) => void | Promise<void>;
  /** The daemon kept crashing and is not restarted any more: tell the user, offer a restart. */
  onFailed: (message: string) => void;
}

export class Daemon implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<LanguageClient> | undefined;
  private restarts: number[] = [];
  private failure: string | undefined;
  private readonly stateEmitter = new vscode.EventEmitter<DaemonState>();
  readonly onDidChangeState = this.stateEmitter.event;
  private current: DaemonState = 'stopped';
  runtime: RuntimeChoice | undefined;

  constructor(private readonly options: DaemonOptions) {}

  get state(): DaemonState {
    return this.current;
  }

  private setState(state: DaemonState): void {
    if (state === this.current) return;
    this.current = state;
    this.stateEmitter.fire(state);
  }

  /** Starts the daemon when it is not running (for the `.env` lint; requests start it themselves). */
  async start(): Promise<void> {
    await this.running();
  }

  /** The running client; starts the daemon when it is not running. Shares one start between callers. */
  private async running(): Promise<LanguageClient> {
    const client = this.client;
    if (client?.state === RUNNING) return client;
    // The language client restarting the daemon after a crash: join that start, never run a second daemon beside it.
    if (client?.state === STARTING && !this.starting) {
      const restarted = await client.start().then(
        () => client.state === RUNNING,
        () => false,
      );
      if (restarted && this.client === client) return client;
    }
    this.starting ??= this.doStart().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async doStart(): Promise<LanguageClient> {
    this.setState('starting');
    this.failure = undefined;
    const output = this.options.output;
    try {
      const lib = await protocol();
      const runtime = await chooseRuntime({ extensionPath: this.options.extensionUri.fsPath, setting: this.options.runtimeSetting() });
      this.runtime = runtime;
      output.info(describeChoice(runtime));
      for (const c of runtime.candidates) {
        output.debug(`runtime candidate ${c.source}: ${c.executable ?? process.execPath} → ${c.abi ? `ABI ${c.abi} ${c.version}` : c.error}`);
      }
      const module = vscode.Uri.joinPath(this.options.extensionUri, 'dist', 'server.js').fsPath;
      const env: Record<string, string> = {};
      if (runtime.nativeBinding) env[NATIVE_ENV] = runtime.nativeBinding;
      const run = {
        module,
        transport: lib.TransportKind.ipc,
        runtime: runtime.chosen.executable === undefined ? undefined : (runtime.chosen.resolved ?? runtime.chosen.executable),
        options: { env, execArgv: [] as string[] },
      };
      const serverOptions: ServerOptions = { run, debug: run };
      const trusted = this.options.trusted();
      const initializationOptions: InitializationOptions & { trusted: boolean } = {
        // Untrusted: lint only, never a database connection from a workspace's .env.
        databaseDiagnostics: trusted,
        trusted,
        // Diagnostic codes and hovers link to the README shipped in the extension.
        docsUrl: vscode.Uri.joinPath(this.options.extensionUri, 'README.md').toString(),
      };
      const clientOptions: LanguageClientOptions = {
        documentSelector: [
          { language: 'dotenv' },
          { scheme: 'file', pattern: '**/.env' },
          { scheme: 'file', pattern: '**/.env.*' },
        ],
        outputChannel: output,
        initializationOptions,
        diagnosticCollectionName: 'gpt-load',
        errorHandler: this.errorHandler(lib),
        // Our own notifications say what went wrong; the client's popups would repeat them.
        revealOutputChannelOn: 4 /* RevealOutputChannelOn.Never */,
      };
      const client = new (keystoreClientClass(lib))('gptLoad', t('GPT-Load Daemon'), serverOptions, clientOptions);
      client.onDidChangeState((event) => {
        if (event.newState === lib.State.Running) this.setState('running');
        else if (event.newState === lib.State.Starting) this.setState('starting');
        else if (this.current !== 'failed') this.setState('stopped');
      });
      this.client = client;
      await this.options.onClient?.(client);
      await client.start();
      output.info(`daemon started (pid ${this.pid ?? '?'})`);
      this.setState('running');
      return client;
    } catch (err) {
      this.failure = err instanceof Error ? err.message : String(err);
      output.error(`daemon did not start: ${this.failure}`);
      this.setState('failed');
      throw new DaemonUnavailable(this.failure);
    }
  }

  private errorHandler(lib: ClientLibrary): ErrorHandler {
    return {
      error: (_error, _message, count): ErrorHandlerResult => ({ action: (count ?? 0) <= 3 ? lib.ErrorAction.Continue : lib.ErrorAction.Shutdown, handled: true }),
      closed: (): CloseHandlerResult => {
        const now = Date.now();
        this.restarts = this.restarts.filter((at) => now - at < CRASH_WINDOW_MS);
        this.restarts.push(now);
        if (this.restarts.length <= MAX_RESTARTS) {
          this.options.output.warn(`daemon exited; restarting (${this.restarts.length}/${MAX_RESTARTS} in 3 minutes)`);
          return { action: lib.CloseAction.Restart, handled: true };
        }
        this.failure = t('The GPT-Load daemon stopped {0} times in 3 minutes and was not restarted.', this.restarts.length);
        this.options.output.error(this.failure);
        this.setState('failed');
        this.options.onFailed(this.failure);
        return { action: lib.CloseAction.DoNotRestart, handled: true };
      },
    };
  }

  /** Why the daemon is not available, or undefined when it may be used (running or startable). */
  get unavailableReason(): string | undefined {
    return this.current === 'failed' ? (this.failure ?? t('The GPT-Load daemon is not running.')) : undefined;
  }

  /**
   * The one way to send a request: refused before it is sent when it needs trust the workspace does
   * not have; starts the daemon when it is stopped; a failed daemon is not restarted here.
   */
  async request<P, R>(type: RequestType<P, R, void>, params: P, options: RequestOptions<P>): Promise<R> {
    if (options.needsTrust && !this.options.trusted()) throw new UntrustedWorkspace();
    const reason = this.unavailableReason;
    if (reason) throw new DaemonUnavailable(reason);
    const client = await this.running();
    if (options.progress === undefined) return client.sendRequest(type, params as never); // RequestParam<P> is P for object params
    return this.withProgress(client, options.progress, type, params);
  }

  /** A long request under a cancellable progress notification fed by the daemon's work-done progress (phase, rows, rate). */
  private async withProgress<P, R>(client: LanguageClient, title: string, type: RequestType<P, R, void>, params: P): Promise<R> {
    const { WorkDoneProgress } = await protocol();
    const token = `gptLoad-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, cancel) => {
      // The daemon's phases (backup, check, write…) each count from 0 to 100 again; the bar only grows,
      // so each new phase fills what the last left, and the bar keeps moving until the end.
      let shown = 0;
      let base = 0;
      let phase = 0;
      const listener = client.onProgress(WorkDoneProgress.type, token, (value: WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd) => {
        if (value.kind === 'end') return;
        if (value.percentage === undefined) return progress.report({ message: value.message });
        if (value.percentage < phase) base = shown;
        phase = value.percentage;
        const target = base + ((100 - base) * phase) / 100;
        progress.report({ message: value.message, increment: Math.max(0, target - shown) });
        shown = Math.max(shown, target);
      });
      try {
        // RequestParam<P> is P for the object params used here.
        return await client.sendRequest(type, { ...params, workDoneToken: token } as never, cancel);
      } finally {
        listener.dispose();
      }
    });
  }

  /** Process id of the running daemon (tests, the log). */
  get pid(): number | undefined {
    return (this.client as unknown as { _serverProcess?: { pid?: number } } | undefined)?._serverProcess?.pid;
  }

  /** Whether the daemon runs now (without starting it). */
  get isRunning(): boolean {
    return this.client?.state === RUNNING;
  }

  async restart(): Promise<void> {
    await this.stop();
    this.restarts = [];
    this.setState('stopped');
    await this.start();
  }

  async stop(): Promise<void> {
    if (this.starting) await this.starting.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        if (client.needsStop()) await client.stop(2000);
      } catch (err) {
        this.options.output.warn(`daemon stop: ${err instanceof Error ? err.message : String(err)}`);
      }
      await client.dispose().catch(() => undefined);
    }
    this.setState('stopped');
  }

  dispose(): void {
    void this.stop();
    this.stateEmitter.dispose();
  }
}
