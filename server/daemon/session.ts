/**
 * One client session: its language, options and capabilities, the shared database pool, and the
 * one way requests are registered — params checked against their Params (params.ts), work-done
 * progress and cancellation wired, errors mapped to stable JSON-RPC errors, method and duration
 * (never params) logged.
 */
import { dirname } from 'node:path';
import type { CancellationToken, Connection, RequestType, WorkDoneProgressParams } from 'vscode-languageserver/node';
import type { Lang, Localized } from '../core/errors';
import { KeystoreError, localize } from '../core/errors';
import { describeEnvParseError, loadEnv } from '../core/env/read';
import { resolveDeployment, type Deployment } from '../keystore/deployment';
import type { OperationContext } from '../keystore/operation';
import {
  DecryptRequest,
  EncryptRequest,
  EnvReadRequest,
  EnvWriteRequest,
  GenerateSecretRequest,
  HashRequest,
  type DeploymentRef,
  type InitializationOptions,
} from '../../shared/protocol';
import type { DaemonArgs } from './args';
import { notInitializedError, toResponseError, untrustedError } from './errors';
import { log, redactor } from './log';
import { checkParams, type ParamsSpec } from './params';
import { WorkDone } from './progress';
import { StorePool } from './stores';

export interface Scope {
  lang: Lang;
  token: CancellationToken;
  /** Progress and cancellation for the core operation (progress only on long requests). */
  context: OperationContext;
}

/**
 * The requests an untrusted workspace may make: they read and write `.env` text and compute, and
 * run no process and open no connection. Every other request — any new one included — is refused.
 */
const OFFLINE_METHODS: ReadonlySet<string> = new Set(
  [EnvReadRequest, EnvWriteRequest, GenerateSecretRequest, EncryptRequest, DecryptRequest, HashRequest].map((r) => r.method),
);

export class Session {
  lang: Lang = 'en';
  options: Required<InitializationOptions> = { connectTimeoutMs: 5000, databaseDiagnostics: true, docsUrl: '', trusted: true };
  /** The client accepts window/workDoneProgress/create. */
  canCreateProgress = false;
  /** The client applies WorkspaceEdits that create files. */
  canCreateFiles = false;
  /** `initialize` was answered: requests are served, documents diagnosed. */
  initialized = false;
  readonly stores = new StorePool(() => this.options.connectTimeoutMs, () => this.options.trusted);

  constructor(
    readonly connection: Connection,
    readonly args: DaemonArgs,
  ) {}

  /** The documentation of a diagnostic code (or of a hover's subject), when the client said where the docs are. */
  docsLink(anchor: string): string | null {
    return this.options.docsUrl ? `${this.options.docsUrl}#${anchor}` : null;
  }

  applyInitializationOptions(raw: unknown): void {
    const o = raw && typeof raw === 'object' ? (raw as InitializationOptions) : {};
    if (typeof o.connectTimeoutMs === 'number' && o.connectTimeoutMs >= 100 && o.connectTimeoutMs <= 120_000) this.options.connectTimeoutMs = o.connectTimeoutMs;
    if (typeof o.databaseDiagnostics === 'boolean') this.options.databaseDiagnostics = o.databaseDiagnostics;
    if (typeof o.docsUrl === 'string' && o.docsUrl.length <= 4096 && /^(https?|file):/i.test(o.docsUrl)) this.options.docsUrl = o.docsUrl.replace(/#.*$/, '');
    // Anything but an explicit true from a client that sends the option is untrusted.
    if ('trusted' in o) this.options.trusted = o.trusted === true;
  }

  /** Database-backed diagnostics and hovers: asked for, and allowed by the workspace's trust. */
  get checksDatabase(): boolean {
    return this.options.trusted && this.options.databaseDiagnostics;
  }

  text(t: Localized): string {
    return localize(t, this.lang);
  }

  /**
   * Registers a request: its handler gets the params `spec` has checked, typed by the request's
   * Params, and answers its Result. `progressTitle` marks it long: it then reports work-done
   * progress and its operation gets the request's cancellation (and the progress' cancel button).
   */
  onRequest<P, R>(
    type: RequestType<P, R, void>,
    spec: NoInfer<ParamsSpec<P>>,
    run: (params: P, scope: Scope) => Promise<R> | R,
    progressTitle?: Localized,
  ): void {
    this.connection.onRequest(type.method, async (rawParams: unknown, token: CancellationToken) => {
      const started = performance.now();
      log.trace(`→ ${type.method}`);
      let work: WorkDone | undefined;
      if (!this.initialized) return notInitializedError();
      try {
        if (!this.options.trusted && !OFFLINE_METHODS.has(type.method)) throw untrustedError();
        const params = checkParams(spec, rawParams);
        const cancellation = { get cancelled() { return token.isCancellationRequested; } };
        let context: OperationContext = { cancellation };
        if (progressTitle) {
          const clientToken = (rawParams as Partial<WorkDoneProgressParams> | null | undefined)?.workDoneToken;
          work = await WorkDone.begin(this.connection, {
            clientToken: typeof clientToken === 'string' || typeof clientToken === 'number' ? clientToken : undefined,
            canCreate: this.canCreateProgress,
            title: this.text(progressTitle),
            lang: this.lang,
            requestToken: token,
          });
          context = work.context;
        }
        const result = await run(params, { lang: this.lang, token, context });
        log.debug(`${type.method} ok in ${(performance.now() - started).toFixed(1)} ms`);
        return result;
      } catch (err) {
        const error = toResponseError(err, this.lang, type.method);
        log.debug(`${type.method} failed (${error.code}) in ${(performance.now() - started).toFixed(1)} ms`);
        return error;
      } finally {
        work?.done();
      }
    });
  }

  /**
   * The deployment a request names, resolved as GPT-Load resolves it. The daemon's own environment
   * is not GPT-Load's, so only the file (and the request's overrides) count. Its secrets are handed
   * to the log redactor before anything can log them.
   */
  deployment(ref: DeploymentRef): Deployment {
    redactor.add(ref.dsn);
    let deployment: Deployment;
    try {
      deployment = resolveDeployment({ envFile: ref.envFile, dsn: ref.dsn, dbHost: ref.dbHost, cwd: dirname(ref.envFile), processEnv: {} });
    } catch (err) {
      throw err instanceof KeystoreError && err.code === 'env-parse' ? parseErrorWithoutContent(ref.envFile, err) : err;
    }
    rememberDeploymentSecrets(deployment);
    return deployment;
  }
}

/**
 * godotenv's own message quotes the file from the error on — secrets included — so the daemon
 * answers with the core's content-free description of the same error instead.
 */
function parseErrorWithoutContent(envFile: string, original: KeystoreError): KeystoreError {
  const error = loadEnv(envFile, {}).doc.error;
  if (!error) return original;
  const where = describeEnvParseError(error);
  return new KeystoreError(
    'env-parse',
    {
      en: `${envFile}: godotenv refuses this file (${where.en}), so GPT-Load ignores all of it. Fix the file first.`,
      zh: `${envFile}：godotenv 无法解析此文件（${where.zh}），GPT-Load 会忽略整个文件。请先修复。`,
    },
    original.details,
  );
}

function rememberDeploymentSecrets(deployment: Deployment): void {
  redactor.add(deployment.encryptionKey);
  for (const name of ['AUTH_KEY', 'ENCRYPTION_KEY', 'DATABASE_DSN', 'REDIS_DSN']) redactor.add(deployment.env.get(name));
}
