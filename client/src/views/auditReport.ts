/**
 * The audit as a rendered report: a webview with a strict Content-Security-Policy (no scripts, styles
 * only from this page's nonce), every text HTML-escaped. Messages hold masked values at most.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { AuditResult, AuditSeverity } from '../../../shared/protocol';
import type { Deployment } from '../deployments';
import { t } from '../l10n';
import { countsText } from './auditNodes';

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const MARKS: Record<AuditSeverity, string> = { pass: '✓', warn: '!', fail: '✗', unknown: '?' };

function renderAuditHtml(deployment: Deployment, result: AuditResult, nonce: string): string {
  const sections = Object.entries(result.items)
    .filter(([item]) => result.findings.some((f) => f.item === item))
    .map(([item, { title, ...counts }]) => {
      const rows = result.findings
        .filter((f) => f.item === item)
        .map(
          (f) =>
            `<li class="${f.severity}"><span class="mark">${MARKS[f.severity]}</span> <code>${escape(f.code)}</code> ${escape(f.message)}` +
            (f.file ? `<div class="where">${escape(f.file)}${f.line ? `:${f.line}` : ''}</div>` : '') +
            '</li>',
        )
        .join('');
      return `<section><h2>${escape(title)} <small>${escape(countsText(counts))}</small></h2><ul>${rows}</ul></section>`;
    })
    .join('');
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${nonce}';">
<style nonce="${nonce}">
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 1.5em; }
h2 small { font-weight: normal; color: var(--vscode-descriptionForeground); margin-left: .5em; }
ul { list-style: none; padding-left: 0; } li { margin: .4em 0; }
.mark { display: inline-block; width: 1.2em; font-weight: bold; }
.fail .mark { color: var(--vscode-errorForeground); } .warn .mark { color: var(--vscode-editorWarning-foreground); }
.pass .mark { color: var(--vscode-testing-iconPassed); } .unknown .mark { color: var(--vscode-descriptionForeground); }
.where { margin-left: 1.6em; color: var(--vscode-descriptionForeground); font-family: var(--vscode-editor-font-family); }
</style></head>
<body><h1>${escape(t('GPT-Load security audit'))} — ${escape(deployment.label)}</h1>
<p>${escape(countsText(result.summary))}</p>${sections}</body></html>`;
}

/** One panel per deployment, updated in place when shown again. */
export class AuditReportPanels implements vscode.Disposable {
  private readonly panels = new Map<string, vscode.WebviewPanel>();

  show(deployment: Deployment, result: AuditResult): vscode.WebviewPanel {
    let panel = this.panels.get(deployment.envFile);
    if (!panel) {
      panel = vscode.window.createWebviewPanel('gptLoad.auditReport', t('Security audit: {0}', deployment.label), vscode.ViewColumn.Active, { enableScripts: false, localResourceRoots: [] });
      this.panels.set(deployment.envFile, panel);
      panel.onDidDispose(() => this.panels.delete(deployment.envFile));
    }
    panel.webview.html = renderAuditHtml(deployment, result, randomBytes(16).toString('base64'));
    panel.reveal();
    return panel;
  }

  dispose(): void {
    for (const panel of this.panels.values()) panel.dispose();
  }
}
