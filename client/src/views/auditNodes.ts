/**
 * The explorer's Security node as the audit's checklist: one node per item of GPT-Load's security
 * best-practice list with the CLI's counts, one node per finding under it — opening its file at its
 * line, or running the command that fixes it. Results are kept per deployment until a refresh.
 * A stale AUTH_KEY (auth-key-stale) is also brought up once per session as a notification, and every
 * warning or failure with a place shows as a diagnostic in its file (Compose, nginx, Caddyfile, .env).
 */
import * as vscode from 'vscode';
import type { AuditFindingInfo, AuditResult, AuditSeverity } from '../../../shared/protocol';
import { CommandIds } from '../../../shared/commands';
import type { Ctx } from '../context';
import type { Deployment } from '../deployments';
import { t } from '../l10n';
import { protocol } from '../protocol';

export class AuditItemNode {
  readonly kind = 'auditItem';
  constructor(
    readonly deployment: Deployment,
    readonly item: string,
    readonly result: AuditResult,
  ) {}
}

export class AuditFindingNode {
  readonly kind = 'auditFinding';
  constructor(
    readonly deployment: Deployment,
    readonly finding: AuditFindingInfo,
  ) {}
}

/** The client command behind each fix the audit names. */
const FIX_COMMANDS: Record<string, string> = {
  'rotate-auth-key': CommandIds.rotateAuthKey,
  'proxy-keys-remove': CommandIds.rotateAuthKey,
  'migrate-keys': CommandIds.migrateKeys,
  'backup-create': CommandIds.createBackup,
  'save-key-copy': CommandIds.saveKeyCopy,
};

const ICONS: Record<AuditSeverity, [string, string]> = {
  pass: ['pass', 'testing.iconPassed'],
  warn: ['warning', 'editorWarning.foreground'],
  fail: ['error', 'errorForeground'],
  unknown: ['question', 'descriptionForeground'],
};

export function severityIcon(severity: AuditSeverity): vscode.ThemeIcon {
  const [icon, color] = ICONS[severity];
  return new vscode.ThemeIcon(icon, new vscode.ThemeColor(color));
}

/** "2 fail · 1 warn · 3 pass" in the order that matters. */
export function countsText(counts: Record<AuditSeverity, number>): string {
  const words: Record<AuditSeverity, (n: number) => string> = {
    fail: (n) => t('{0} fail', n),
    warn: (n) => t('{0} warn', n),
    unknown: (n) => t('{0} unknown', n),
    pass: (n) => t('{0} pass', n),
  };
  return (['fail', 'warn', 'unknown', 'pass'] as const).filter((s) => counts[s] > 0).map((s) => words[s](counts[s])).join(' · ');
}

export function worstSeverity(counts: Record<AuditSeverity, number>): AuditSeverity {
  return (['fail', 'warn', 'unknown', 'pass'] as const).find((s) => counts[s] > 0) ?? 'pass';
}

/** Audit results per deployment (`.env` path), fetched on first use. */
export class AuditResults {
  private readonly results = new Map<string, Promise<AuditResult>>();
  private readonly settled = new Map<string, AuditResult>();
  private readonly reminded = new Set<string>();
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('gpt-load-audit');

  constructor(private readonly ctx: Ctx) {
    ctx.subscribe(this.diagnostics);
  }

  clear(): void {
    this.results.clear();
    this.settled.clear();
  }

  /** The result when it has arrived. */
  peek(deployment: Deployment): AuditResult | undefined {
    return this.settled.get(deployment.envFile);
  }

  get(deployment: Deployment): Promise<AuditResult> {
    let result = this.results.get(deployment.envFile);
    if (!result) {
      result = this.fetch(deployment);
      this.results.set(deployment.envFile, result);
      result.catch(() => this.results.delete(deployment.envFile));
    }
    return result;
  }

  private async fetch(deployment: Deployment): Promise<AuditResult> {
    const { AuditRequest } = await protocol();
    const result = await this.ctx.daemon.request(AuditRequest.type, { deployment: await this.ctx.ref(deployment) }, { needsTrust: true });
    this.settled.set(deployment.envFile, result);
    this.remindStale(deployment, result);
    this.showDiagnostics();
    return result;
  }

  /** Findings with a file and line, of every deployment audited, as diagnostics in those files. */
  private showDiagnostics(): void {
    const byFile = new Map<string, vscode.Diagnostic[]>();
    for (const result of this.settled.values()) {
      for (const f of result.findings) {
        if (!f.file || !f.line || (f.severity !== 'warn' && f.severity !== 'fail')) continue;
        const line = f.line - 1;
        const diagnostic = new vscode.Diagnostic(new vscode.Range(line, 0, line, Number.MAX_SAFE_INTEGER), f.message, f.severity === 'fail' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
        diagnostic.source = 'gpt-load audit';
        diagnostic.code = f.code;
        byFile.set(f.file, [...(byFile.get(f.file) ?? []), diagnostic]);
      }
    }
    this.diagnostics.clear();
    for (const [file, list] of byFile) this.diagnostics.set(vscode.Uri.file(file), list);
  }

  private remindStale(deployment: Deployment, result: AuditResult): void {
    const stale = result.findings.find((f) => f.code === 'auth-key-stale' && f.severity === 'warn');
    if (!stale || this.reminded.has(deployment.envFile)) return;
    this.reminded.add(deployment.envFile);
    void this.ctx.ui
      .notify('authKeyStale', stale.message, { severity: 'warning', actions: [{ id: 'rotate', title: t('Rotate Now') }] })
      .then((answer) => answer === 'rotate' && vscode.commands.executeCommand(CommandIds.rotateAuthKey, deployment));
  }
}

export function auditItemNodes(deployment: Deployment, result: AuditResult): AuditItemNode[] {
  return Object.keys(result.items)
    .filter((item) => result.findings.some((f) => f.item === item))
    .map((item) => new AuditItemNode(deployment, item, result));
}

export function auditChildren(node: AuditItemNode): AuditFindingNode[] {
  return node.result.findings.filter((f) => f.item === node.item).map((f) => new AuditFindingNode(node.deployment, f));
}

export function auditItemTreeItem(node: AuditItemNode): vscode.TreeItem {
  const { title, ...counts } = node.result.items[node.item];
  const worst = worstSeverity(counts);
  const item = new vscode.TreeItem(title, worst === 'fail' || worst === 'warn' ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
  item.id = `audit:${node.deployment.envFile}:${node.item}`;
  item.description = countsText(counts);
  item.iconPath = severityIcon(worst);
  return item;
}

export function auditFindingTreeItem(node: AuditFindingNode): vscode.TreeItem {
  const f = node.finding;
  const item = new vscode.TreeItem(f.message, vscode.TreeItemCollapsibleState.None);
  item.description = f.code;
  item.iconPath = severityIcon(f.severity);
  const where = f.file ? `${f.file}${f.line ? `:${f.line}` : ''}` : undefined;
  item.tooltip = [f.message, where, f.fix ? t('Fix: {0}', f.fix) : undefined].filter(Boolean).join('\n');
  const fix = f.fix ? FIX_COMMANDS[f.fix] : undefined;
  if (f.file) {
    const position = new vscode.Position(Math.max(0, (f.line ?? 1) - 1), 0);
    item.command = { command: 'vscode.open', title: t('Open'), arguments: [vscode.Uri.file(f.file), { selection: new vscode.Range(position, position) }] };
  } else if (fix && f.severity !== 'pass') {
    item.command = { command: fix, title: t('Fix'), arguments: [node.deployment] };
  }
  item.contextValue = fix && f.severity !== 'pass' ? 'gptLoad.auditFinding.fixable' : 'gptLoad.auditFinding';
  return item;
}

/** The client command fixing a finding, if it has one. */
export function fixCommandOf(finding: AuditFindingInfo): string | undefined {
  return finding.fix ? FIX_COMMANDS[finding.fix] : undefined;
}
