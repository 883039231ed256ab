/**
 * How a failure reaches the user: the daemon's message (already in the user's language) plus the
 * one action that fixes it — set a database host, enter a password, pick another runtime, trust
 * the workspace, restart the daemon. Cancellation is quiet.
 */
import * as vscode from 'vscode';
import type { ErrorCode, ErrorData, ServiceCheckResult } from '../../shared/protocol';
import { t } from './l10n';
import type { SqliteProblem } from './runtime';
import type { UI } from './ui';

/** Thrown when a command needs a trusted workspace. */
export class UntrustedWorkspace extends Error {
  constructor() {
    super(t('This needs a trusted workspace: in a restricted workspace GPT-Load Keystore only checks .env files.'));
  }
}

/** Thrown by a request when the daemon is down and could not be started. */
export class DaemonUnavailable extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** The user stopped a command; nothing to report. */
export class Cancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

/** The JSON-RPC error code of a failed request (checked by shape: the client library loads lazily). */
function responseCode(err: unknown): number | undefined {
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'number' ? code : undefined;
}

/** LSP RequestCancelled. */
const REQUEST_CANCELLED = -32800;

export function keystoreCode(err: unknown): ErrorCode | undefined {
  if (responseCode(err) === undefined) return undefined;
  if (responseCode(err) === REQUEST_CANCELLED) return 'cancelled';
  return ((err as { data?: ErrorData }).data)?.code;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function isCancellation(err: unknown): boolean {
  return err instanceof Cancelled || keystoreCode(err) === 'cancelled' || (err instanceof vscode.CancellationError);
}

export function describeSqliteProblem(problem: SqliteProblem): string {
  if (problem.kind === 'missing') return t('The SQLite module (better_sqlite3.node) is not part of this installation; reinstall the extension.');
  return t(
    'SQLite needs a Node.js runtime with ABI {0} ({1}); none was found ({2}). Install it and put it on PATH or set gptLoad.daemon.runtime to it, then run "GPT-Load: Restart Daemon". .env checks and MySQL/PostgreSQL work meanwhile.',
    problem.abi,
    problem.node,
    problem.seen,
  );
}

export type ErrorAction = 'setHost' | 'enterPassword' | 'runtimeSetting' | 'restart' | 'trust' | 'log';

/** The action that helps with an error, if one does. */
export function actionFor(err: unknown): ErrorAction | undefined {
  if (err instanceof DaemonUnavailable) return 'restart';
  if (err instanceof UntrustedWorkspace) return 'trust';
  switch (keystoreCode(err)) {
    // The daemon's own refusal, for a request sent as needing no trust that does.
    case 'untrusted':
      return 'trust';
    case 'host-not-found':
    case 'connection-refused':
    case 'connection-timeout':
      return 'setHost';
    case 'auth-refused':
      return 'enterPassword';
    case 'native-module-unavailable':
      return 'runtimeSetting';
    case 'internal':
      return 'log';
    default:
      return undefined;
  }
}

export function actionTitle(action: ErrorAction): string {
  switch (action) {
    case 'setHost':
      return t('Set Database Host');
    case 'enterPassword':
      return t('Enter Database Password');
    case 'runtimeSetting':
      return t('Choose Runtime');
    case 'restart':
      return t('Restart Daemon');
    case 'trust':
      return t('Manage Workspace Trust');
    case 'log':
      return t('Show Log');
  }
}

/** Says that GPT-Load runs and offers "Check Again"; throws Cancelled when the user stops asking. */
async function askCheckAgain(ui: UI, message: string): Promise<void> {
  const answer = await ui.ask('serviceRunning', message, {
    severity: 'warning',
    detail: t('Stop GPT-Load, then check again. Nothing was changed.'),
    actions: [{ id: 'checkAgain', title: t('Check Again') }],
  });
  if (answer !== 'checkAgain') throw new Cancelled();
}

/**
 * Runs an operation that rewrites keys (migrate, restore) until the daemon stops refusing it
 * because GPT-Load runs ('service-running'): says so and offers "Check Again" in between. A refused
 * attempt wrote nothing. Throws Cancelled when the user stops asking.
 */
export async function retryWhileServiceRuns<R>(ui: UI, run: () => Promise<R>): Promise<R> {
  for (;;) {
    try {
      return await run();
    } catch (err) {
      if (keystoreCode(err) !== 'service-running') throw err;
      await askCheckAgain(ui, messageOf(err));
    }
  }
}

/**
 * Asks the daemon whether GPT-Load runs against the deployment (its `/health` answers, or other
 * sessions are connected) until it does not, with the daemon's findings and "Check Again" in
 * between: before a step that is pointless while GPT-Load runs. Throws Cancelled when the user stops asking.
 */
export async function waitUntilServiceStopped(ui: UI, check: () => Promise<ServiceCheckResult>): Promise<void> {
  for (;;) {
    const result = await check();
    if (!result.running) return;
    await askCheckAgain(ui, t('GPT-Load looks running: {0}.', result.message ?? result.url));
  }
}
