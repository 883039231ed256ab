/**
 * The "Backups" node of a deployment in the key explorer, and its rows: each backup with its verdict
 * (works with the current key / needs another key / stale / differs / unverified seal / corrupt), when it was taken,
 * its size and the key it needs, by fingerprint. Check and Restore are on each row's context menu,
 * Create Backup on the node and in the view's title.
 */
import * as vscode from 'vscode';
import { backupLabel, type BackupEntry } from '../backups';
import { backupContextValue } from '../backupVerdicts';
import type { Ctx } from '../context';
import type { Deployment } from '../deployments';
import { describeBackup, shortDate } from '../describe';
import { t, tn } from '../l10n';

export class BackupsNode {
  readonly kind = 'backups';
  constructor(readonly deployment: Deployment) {}
}

export class BackupNode {
  readonly kind = 'backup';
  constructor(readonly entry: BackupEntry) {}

  get deployment(): Deployment {
    return this.entry.deployment;
  }
}

export async function backupRows(ctx: Ctx, node: BackupsNode): Promise<BackupNode[]> {
  return (await ctx.backups.list(node.deployment)).map((entry) => new BackupNode(entry));
}

export function backupsItem(node: BackupsNode): vscode.TreeItem {
  const item = new vscode.TreeItem(t('Backups'), vscode.TreeItemCollapsibleState.Collapsed);
  item.id = `backups:${node.deployment.envFile}`;
  item.iconPath = new vscode.ThemeIcon('archive');
  item.tooltip = t('Backups in the folder "backups" beside {0}', node.deployment.envFile);
  item.contextValue = 'gptLoad.backups';
  return item;
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export function backupItem(node: BackupNode): vscode.TreeItem {
  const { entry } = node;
  const info = entry.info;
  const words = entry.verdict ? describeBackup(entry.verdict, info?.keyFingerprint, entry.plaintext !== null) : undefined;
  const item = new vscode.TreeItem(backupLabel(entry), vscode.TreeItemCollapsibleState.None);
  item.id = `backup:${entry.path}`;
  const days = info ? Math.floor((Date.now() - Date.parse(info.createdAt)) / DAY_MS) : 0;
  item.description = [words?.label, days >= 1 ? tn(days, '{0} day old', '{0} days old') : undefined, info ? size(info.bytes) : undefined].filter(Boolean).join(' · ');
  const key = info ? (info.keyFingerprint === 'plaintext' ? t('keys stored in plaintext') : t('needs the ENCRYPTION_KEY with fingerprint {0}', info.keyFingerprint)) : undefined;
  item.tooltip = [
    entry.path,
    info ? t('Taken {0} from {1} ({2})', shortDate(info.createdAt), info.source, info.engine) : undefined,
    key,
    words?.detail,
    info ? Object.entries(info.rows).map(([table, rows]) => `${table}: ${rows}`).join(', ') : undefined,
    ...entry.problems,
  ]
    .filter(Boolean)
    .join('\n');
  const color = !words ? undefined : entry.verdict === 'ok' && !words.warning ? 'testing.iconPassed' : entry.verdict === 'corrupt' ? 'errorForeground' : 'editorWarning.foreground';
  item.iconPath = new vscode.ThemeIcon(words?.icon ?? 'question', color ? new vscode.ThemeColor(color) : undefined);
  item.contextValue = backupContextValue(entry.verdict);
  return item;
}
