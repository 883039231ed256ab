/**
 * The key explorer: deployment → groups (channel type, active/invalid counts) → keys as GPT-Load's
 * UI lists them (notes, else the masked key; status; request/failure counts; last used), one keyset
 * page at a time with a "Load more…" row, so a group of a million keys costs one page. A status
 * filter, a search by exact key value (through key_hash, nothing decrypted), a security node
 * with the dashboard's warnings and a backups node (./backupNodes.ts). No label, description or
 * tooltip ever holds a plaintext key.
 */
import * as vscode from 'vscode';
import { printable } from '../../../shared/printable';
import type { EnvReadResult, GroupSummary, KeyListItem, KeyStatus } from '../../../shared/protocol';
import { CommandIds } from '../../../shared/commands';
import type { Ctx } from '../context';
import type { Deployment } from '../deployments';
import { describeState } from '../describe';
import { messageOf } from '../errors';
import { formatAgo } from '../../../shared/format';
import { currentLanguage, num, t, tn } from '../l10n';
import { protocol } from '../protocol';
import { auditChildren, auditFindingTreeItem, auditItemNodes, auditItemTreeItem, AuditResults, countsText, severityIcon, worstSeverity, type AuditFindingNode, type AuditItemNode } from './auditNodes';
import { backupItem, backupRows, backupsItem, BackupNode, BackupsNode } from './backupNodes';

export type KeyFilter = KeyStatus | 'all';

export class DeploymentNode {
  readonly kind = 'deployment';
  constructor(
    readonly deployment: Deployment,
    readonly active: boolean,
  ) {}
}

export class GroupNode {
  readonly kind = 'group';
  /** Keys loaded so far and where the next page starts (null: all loaded). */
  keys: KeyListItem[] = [];
  nextAfterId: number | null | undefined = undefined;
  constructor(
    readonly deployment: Deployment,
    readonly group: GroupSummary,
  ) {}
}

export class KeyNode {
  readonly kind = 'key';
  constructor(
    readonly deployment: Deployment,
    readonly key: KeyListItem,
  ) {}
}

export class LoadMoreNode {
  readonly kind = 'loadMore';
  constructor(readonly parent: GroupNode) {}
}

/** In a trusted workspace: the audit's checklist (./auditNodes.ts); otherwise the dashboard's warnings from the `.env`. */
class SecurityNode {
  readonly kind = 'security';
  constructor(
    readonly deployment: Deployment,
    readonly warnings: SecurityWarning[],
    readonly audit = false,
  ) {}
}

export interface SecurityWarning {
  severity: 'high' | 'medium';
  message: string;
  /** Where in the `.env` it is about. */
  line?: number;
}

class WarningNode {
  readonly kind = 'warning';
  constructor(
    readonly deployment: Deployment,
    readonly warning: SecurityWarning,
  ) {}
}

export class SearchNode {
  readonly kind = 'search';
  constructor(
    readonly deployment: Deployment,
    readonly found: KeyListItem[],
  ) {}
}

class MessageNode {
  readonly kind = 'message';
  constructor(
    readonly message: string,
    readonly icon: string,
    readonly command?: vscode.Command,
  ) {}
}

export type ExplorerNode = DeploymentNode | GroupNode | KeyNode | LoadMoreNode | SecurityNode | WarningNode | SearchNode | BackupsNode | BackupNode | MessageNode | AuditItemNode | AuditFindingNode;

function relativeTime(iso: string | null): string {
  if (!iso) return t('never used');
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return iso;
  const ms = Date.now() - then;
  if (ms < 60_000) return t('used just now');
  return t('used {0}', formatAgo(ms, currentLanguage() === 'zh-cn' ? 'zh-CN' : 'en'));
}

export class KeyExplorer implements vscode.TreeDataProvider<ExplorerNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<ExplorerNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  readonly view: vscode.TreeView<ExplorerNode>;
  private filter: KeyFilter = 'all';
  /** Group nodes by deployment, kept so that paging state survives a re-render. */
  private readonly groups = new Map<string, GroupNode[]>();
  private readonly searches = new Map<string, SearchNode>();
  readonly audits: AuditResults;

  constructor(private readonly ctx: Ctx) {
    this.audits = new AuditResults(ctx);
    this.view = vscode.window.createTreeView('gptLoad.keys', { treeDataProvider: this, showCollapseAll: true });
    ctx.subscribe(
      this.view,
      this.emitter,
      ctx.deployments.onDidChange(() => this.refresh()),
      ctx.onDidChangeData(() => this.refresh()),
      ctx.backups.onDidChange(() => this.emitter.fire(undefined)),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.refresh()),
    );
    this.updateDescription();
  }

  refresh(): void {
    this.groups.clear();
    this.audits.clear();
    this.emitter.fire(undefined);
  }

  get statusFilter(): KeyFilter {
    return this.filter;
  }

  setFilter(filter: KeyFilter): void {
    this.filter = filter;
    this.updateDescription();
    this.refresh();
  }

  private updateDescription(): void {
    this.view.description = this.filter === 'all' ? undefined : this.filter === 'active' ? t('active keys') : t('invalid keys');
  }

  showSearch(deployment: Deployment, found: KeyListItem[]): SearchNode {
    const node = new SearchNode(deployment, found);
    this.searches.set(deployment.envFile, node);
    this.emitter.fire(undefined);
    return node;
  }

  clearSearch(deployment: Deployment): void {
    this.searches.delete(deployment.envFile);
    this.emitter.fire(undefined);
  }

  async getChildren(node?: ExplorerNode): Promise<ExplorerNode[]> {
    try {
      if (!node) return await this.roots();
      switch (node.kind) {
        case 'deployment':
          return await this.deploymentChildren(node.deployment);
        case 'group':
          if (node.nextAfterId === undefined) await this.loadPage(node);
          return [...node.keys.map((k) => new KeyNode(node.deployment, k)), ...(node.nextAfterId !== null ? [new LoadMoreNode(node)] : [])];
        case 'security':
          if (node.audit) return auditItemNodes(node.deployment, await this.audits.get(node.deployment));
          return node.warnings.map((w) => new WarningNode(node.deployment, w));
        case 'auditItem':
          return auditChildren(node);
        case 'search':
          return node.found.map((k) => new KeyNode(node.deployment, k));
        case 'backups': {
          const rows = await backupRows(this.ctx, node);
          if (rows.length > 0) return rows;
          return [new MessageNode(t('No backups yet: create one.'), 'info', { command: CommandIds.createBackup, title: t('Create Backup'), arguments: [node.deployment] })];
        }
        default:
          return [];
      }
    } catch (err) {
      return [new MessageNode(messageOf(err), 'error', { command: CommandIds.showLog, title: t('Show Log') })];
    }
  }

  private async roots(): Promise<ExplorerNode[]> {
    const list = await this.ctx.deployments.all();
    const active = await this.ctx.deployments.active();
    return list.map((d) => new DeploymentNode(d, d.envFile === active?.envFile));
  }

  private async deploymentChildren(deployment: Deployment): Promise<ExplorerNode[]> {
    const out: ExplorerNode[] = [];
    const search = this.searches.get(deployment.envFile);
    if (search) out.push(search);
    if (this.ctx.trusted) out.push(new SecurityNode(deployment, [], true));
    else {
      const security = await this.security(deployment);
      if (security.length > 0) out.push(new SecurityNode(deployment, security));
    }
    if (!this.ctx.trusted) {
      out.push(new MessageNode(t('Restricted workspace: trust it to browse keys.'), 'shield', { command: 'workbench.trust.manage', title: t('Manage Workspace Trust') }));
      return out;
    }
    out.push(new BackupsNode(deployment));
    let groups = this.groups.get(deployment.envFile);
    if (!groups) {
      const { GroupsRequest } = await protocol();
      const { groups: found } = await this.ctx.daemon.request(GroupsRequest.type, { deployment: await this.ctx.ref(deployment) }, { needsTrust: true });
      groups = found.map((g) => new GroupNode(deployment, g));
      this.groups.set(deployment.envFile, groups);
    }
    if (groups.length === 0) out.push(new MessageNode(t('No groups in this database.'), 'info'));
    return [...out, ...groups];
  }

  /** Loads the next page of a group (the "Load more…" row). */
  async loadPage(node: GroupNode): Promise<void> {
    if (node.nextAfterId === null) return;
    const { KeysRequest } = await protocol();
    const page = await this.ctx.daemon.request(
      KeysRequest.type,
      {
        deployment: await this.ctx.ref(node.deployment),
        groupId: node.group.id,
        status: this.filter === 'all' ? undefined : this.filter,
        limit: this.ctx.config.pageSize,
        afterId: node.nextAfterId ?? undefined,
      },
      { needsTrust: true },
    );
    node.keys.push(...page.items);
    node.nextAfterId = page.nextAfterId;
  }

  /** Keys of the group under the current filter not loaded yet. */
  private remaining(node: GroupNode): number {
    const total = this.filter === 'active' ? node.group.active : this.filter === 'invalid' ? node.group.invalid : node.group.active + node.group.invalid;
    return Math.max(0, total - node.keys.length);
  }

  async loadMore(node: LoadMoreNode): Promise<void> {
    await this.loadPage(node.parent);
    this.emitter.fire(node.parent);
  }

  /** The dashboard's warnings: AUTH_KEY / ENCRYPTION_KEY strength from the `.env`, and the encryption verdict. */
  private async security(deployment: Deployment): Promise<SecurityWarning[]> {
    const warnings: SecurityWarning[] = [];
    let env: EnvReadResult;
    try {
      const { EnvReadRequest } = await protocol();
      env = await this.ctx.daemon.request(EnvReadRequest.type, { envFile: deployment.envFile }, { needsTrust: false });
    } catch (err) {
      return [{ severity: 'high', message: messageOf(err) }];
    }
    if (env.error) warnings.push({ severity: 'high', message: env.error.message, line: env.error.range.start.line });
    for (const name of ['AUTH_KEY', 'ENCRYPTION_KEY']) {
      const entry = env.entries.find((e) => e.key === name && e.effective);
      if (!entry || entry.length === 0) {
        warnings.push({
          severity: 'high',
          message: name === 'AUTH_KEY' ? t('AUTH_KEY is not set: GPT-Load refuses to start.') : t('ENCRYPTION_KEY is not set: API keys are stored in plaintext.'),
          line: entry?.range.start.line,
        });
      } else if (entry.strength?.risk && entry.strength.message) {
        warnings.push({ severity: entry.strength.risk, message: entry.strength.message, line: entry.range.start.line });
      }
    }
    const background = this.ctx.envStatus.get(deployment.envFile);
    if (background && background.state !== 'ok' && background.state !== 'empty' && background.state !== 'unchecked') {
      const words = describeState(background.state, undefined);
      warnings.push({ severity: 'high', message: background.message ?? words.label });
    }
    for (const diagnostic of vscode.languages.getDiagnostics(vscode.Uri.file(deployment.envFile))) {
      const code = typeof diagnostic.code === 'object' ? String(diagnostic.code.value) : String(diagnostic.code ?? '');
      if (code === 'db-weak-proxy-key' || code === 'db-reused-proxy-key') {
        warnings.push({ severity: diagnostic.severity === vscode.DiagnosticSeverity.Error ? 'high' : 'medium', message: diagnostic.message, line: diagnostic.range.start.line });
      }
    }
    return warnings;
  }

  getTreeItem(node: ExplorerNode): vscode.TreeItem {
    switch (node.kind) {
      case 'deployment': {
        const item = new vscode.TreeItem(node.deployment.label, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `deployment:${node.deployment.envFile}`;
        const status = this.ctx.envStatus.get(node.deployment.envFile);
        const words = status ? describeState(status.state, status.keyFingerprint ? status.keyFingerprint !== 'plaintext' : undefined) : undefined;
        item.description = [node.active ? t('selected') : undefined, words?.label].filter(Boolean).join(' · ');
        item.tooltip = node.deployment.envFile;
        item.iconPath = new vscode.ThemeIcon(words?.icon ?? 'server');
        item.contextValue = 'gptLoad.deployment';
        return item;
      }
      case 'group': {
        const g = node.group;
        const item = new vscode.TreeItem(printable(g.displayName || g.name), vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `group:${node.deployment.envFile}:${g.id}:${this.filter}`;
        item.description = `${printable(g.channelType)} · ${t('{0} active', num(g.active))} · ${t('{0} invalid', num(g.invalid))}`;
        item.tooltip = `${g.name} (${g.groupType}, ${g.channelType})\n${t('{0} active', num(g.active))} · ${t('{0} invalid', num(g.invalid))}`;
        item.iconPath = new vscode.ThemeIcon(g.groupType === 'aggregate' ? 'layers' : 'folder');
        item.contextValue = 'gptLoad.group';
        return item;
      }
      case 'key': {
        const k = node.key;
        const item = new vscode.TreeItem(printable(k.notes || k.masked), vscode.TreeItemCollapsibleState.None);
        item.id = `key:${node.deployment.envFile}:${k.id}`;
        item.description = [k.notes ? k.masked : undefined, tn(k.requestCount, '{0} request', '{0} requests'), tn(k.failureCount, '{0} failure', '{0} failures'), relativeTime(k.lastUsedAt)].filter(Boolean).join(' · ');
        item.tooltip = [`#${k.id} ${k.masked}`, `${k.groupName} · ${k.status}`, k.notes, `${tn(k.requestCount, '{0} request', '{0} requests')}, ${tn(k.failureCount, '{0} failure', '{0} failures')}`, k.lastUsedAt ?? t('never used')].filter(Boolean).join('\n');
        item.iconPath = k.status === 'active' ? new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')) : new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed'));
        item.contextValue = 'gptLoad.key';
        return item;
      }
      case 'loadMore': {
        const remaining = this.remaining(node.parent);
        const label = remaining > 0 ? t('Load {0} more of {1}', num(Math.min(this.ctx.config.pageSize, remaining)), num(remaining)) : t('Load more…');
        const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon('more');
        item.command = { command: CommandIds.loadMore, title: t('Load more…'), arguments: [node] };
        return item;
      }
      case 'security': {
        const item = new vscode.TreeItem(t('Security'), vscode.TreeItemCollapsibleState.Collapsed);
        if (node.audit) {
          item.id = `security:${node.deployment.envFile}`;
          item.contextValue = 'gptLoad.security';
          const result = this.audits.peek(node.deployment);
          if (!result) {
            // Counted in the background; the tree shows the counts once they are in.
            item.description = t('checking…');
            item.iconPath = new vscode.ThemeIcon('shield');
            this.audits.get(node.deployment).then(() => this.emitter.fire(undefined), () => undefined);
            return item;
          }
          item.description = countsText(result.summary);
          item.iconPath = severityIcon(worstSeverity(result.summary));
          return item;
        }
        item.description = tn(node.warnings.length, '{0} warning', '{0} warnings');
        item.iconPath = new vscode.ThemeIcon('shield', new vscode.ThemeColor(node.warnings.some((w) => w.severity === 'high') ? 'errorForeground' : 'editorWarning.foreground'));
        return item;
      }
      case 'warning': {
        const item = new vscode.TreeItem(node.warning.message, vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon(node.warning.severity === 'high' ? 'error' : 'warning');
        item.tooltip = node.warning.message;
        if (node.warning.line !== undefined) {
          const position = new vscode.Position(node.warning.line, 0);
          item.command = { command: 'vscode.open', title: t('Open .env'), arguments: [vscode.Uri.file(node.deployment.envFile), { selection: new vscode.Range(position, position) }] };
        }
        return item;
      }
      case 'auditItem':
        return auditItemTreeItem(node);
      case 'auditFinding':
        return auditFindingTreeItem(node);
      case 'search': {
        const item = new vscode.TreeItem(t('Search result'), vscode.TreeItemCollapsibleState.Expanded);
        item.description = node.found.length === 0 ? t('no key has this value') : tn(node.found.length, '{0} key', '{0} keys');
        item.iconPath = new vscode.ThemeIcon('search');
        item.contextValue = 'gptLoad.search';
        return item;
      }
      case 'backups':
        return backupsItem(node);
      case 'backup':
        return backupItem(node);
      case 'message': {
        const item = new vscode.TreeItem(node.message, vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon(node.icon);
        item.command = node.command;
        item.tooltip = node.message;
        return item;
      }
    }
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
