/**
 * The backups of a deployment as the client shows them: the daemon's list (a quick check of every
 * file in the backups folder beside the `.env`: manifest, every byte against its digest, the key by
 * fingerprint, age) joined with the full checks run in this session (Check Backup), and the prompt
 * that picks one. The worse of the two verdicts wins: a file damaged after its full check is corrupt.
 */
import { basename, dirname } from 'node:path';
import * as vscode from 'vscode';
import { CommandIds } from '../../shared/commands';
import type { BackupCheckResult, BackupInfo, BackupPlaintextRows, BackupVerdict, DeploymentRef } from '../../shared/protocol';
import { printable } from '../../shared/printable';
import type { Daemon } from './daemon';
import type { Deployment, Deployments } from './deployments';
import { restorableHere, worseVerdict } from './backupVerdicts';
import { describeBackup, shortDate } from './describe';
import { t } from './l10n';
import { protocol } from './protocol';
import type { UI } from './ui';

/** What the backups need of the extension's shared context (context.ts passes itself; `ui` is read at each prompt: tests swap it). */
export interface BackupsContext {
  readonly daemon: Pick<Daemon, 'request'>;
  readonly deployments: Pick<Deployments, 'all'>;
  readonly ui: UI;
  ref(deployment: Deployment): Promise<DeploymentRef>;
  /** The deployment a command is about when it names none: the active one, else the user picks. */
  deploymentFor(arg: undefined): Promise<Deployment | undefined>;
}

export interface BackupEntry {
  path: string;
  deployment: Deployment;
  /** undefined: a file given by path that no check has seen yet. */
  verdict: BackupVerdict | undefined;
  /** What is wrong or worth knowing, in the user's language. */
  problems: string[];
  info: BackupInfo | null;
  /** Key rows the backup holds in plaintext: shown as a risk, never as a plain "works" (null: none or not known). */
  plaintext: BackupPlaintextRows | null;
}

/** What a tree node or a command argument can say about a backup. */
export type BackupArg = { entry: BackupEntry } | vscode.Uri | string | undefined;

/** "2026-01-31 14:05" of a backup, else its file name. */
export function backupLabel(entry: BackupEntry): string {
  return printable(entry.info ? shortDate(entry.info.createdAt) : basename(entry.path));
}

export class Backups implements vscode.Disposable {
  private readonly fullChecks = new Map<string, BackupCheckResult>();
  private readonly emitter = new vscode.EventEmitter<Deployment>();
  /** A deployment's backups changed (created, checked, restored from). */
  readonly onDidChange = this.emitter.event;

  constructor(private readonly ctx: BackupsContext) {}

  async list(deployment: Deployment): Promise<BackupEntry[]> {
    const { BackupListRequest } = await protocol();
    const result = await this.ctx.daemon.request(BackupListRequest.type, { deployment: await this.ctx.ref(deployment) }, { needsTrust: true });
    const infos = new Map(result.backups.map((b) => [b.path, b]));
    return (result.checks ?? []).map((check) => {
      const full = this.fullChecks.get(check.path);
      return {
        path: check.path,
        deployment,
        verdict: worseVerdict(check.verdict, full?.verdict ?? check.verdict),
        problems: [...new Set([...check.problems, ...(full?.problems ?? [])])],
        info: infos.get(check.path) ?? full?.info ?? null,
        plaintext: check.plaintext ?? full?.plaintext ?? null,
      };
    });
  }

  /** A full check's verdict stays with the file for this session (the list only checks quickly). */
  recordCheck(deployment: Deployment, result: BackupCheckResult, path: string): void {
    this.fullChecks.set(path, result);
    this.changed(deployment);
  }

  changed(deployment: Deployment): void {
    this.emitter.fire(deployment);
  }

  /** The backup an argument names (tree node, file URI or path), or the one the user picks. */
  async resolve(arg: BackupArg, purpose: { step: string; title: string; usableOnly?: boolean }): Promise<BackupEntry | undefined> {
    if (arg && typeof arg === 'object' && 'entry' in arg) return arg.entry;
    if (arg !== undefined) {
      const path = arg instanceof vscode.Uri ? arg.fsPath : arg.startsWith('file:') ? vscode.Uri.parse(arg).fsPath : arg;
      const deployment = await this.deploymentOf(path);
      if (!deployment) return undefined;
      const listed = (await this.list(deployment)).find((e) => e.path === path);
      return listed ?? { path, deployment, verdict: undefined, problems: [], info: null, plaintext: null };
    }
    const deployment = await this.ctx.deploymentFor(undefined);
    if (!deployment) return undefined;
    const entries = (await this.list(deployment)).filter((e) => !purpose.usableOnly || restorableHere(e.verdict));
    if (entries.length === 0) {
      const answer = await this.ctx.ui.notify('noBackups', t('{0} has no backups yet.', deployment.label), { actions: [{ id: 'create', title: t('Create Backup') }] });
      if (answer === 'create') await vscode.commands.executeCommand(CommandIds.createBackup, deployment);
      return undefined;
    }
    const path = await this.ctx.ui.pick(
      purpose.step,
      entries.map((e) => ({ id: e.path, label: backupLabel(e), description: e.verdict ? describeBackup(e.verdict, e.info?.keyFingerprint, e.plaintext !== null).label : undefined, detail: e.path })),
      { title: purpose.title },
    );
    return entries.find((e) => e.path === path);
  }

  /** Backups live in `<folder of the .env>/backups`: the deployment of that `.env`, else the active one. */
  private async deploymentOf(path: string): Promise<Deployment | undefined> {
    const envDir = dirname(dirname(path));
    const owner = (await this.ctx.deployments.all()).find((d) => dirname(d.envFile) === envDir);
    return owner ?? this.ctx.deploymentFor(undefined);
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
