/**
 * The report viewer: every report a command writes (encryption status, backup checks, key-copy
 * checks, the audit) opens rendered in VS Code's own Markdown preview — theme colours, its strict
 * Content-Security-Policy, no script of ours — in a tab titled by what the report is. The Markdown
 * lives in a read-only virtual document, one per report title and key, updated in place when the
 * report is shown again. Reports hold counts, paths and fingerprints only, never a key.
 */
import * as vscode from 'vscode';

const REPORT_SCHEME = 'gptload-report';

export class ReportView implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly pages = new Map<string, string>();
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;
  private readonly registration = vscode.workspace.registerTextDocumentContentProvider(REPORT_SCHEME, this);

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.pages.get(uri.toString()) ?? '';
  }

  /** The virtual document of a report: its title is the file name the preview's tab shows. */
  uriOf(title: string, key: string): vscode.Uri {
    return vscode.Uri.from({ scheme: REPORT_SCHEME, path: `/${title.replace(/[\\/]/g, '_')}`, query: key });
  }

  /**
   * Shows `markdown` rendered, in a tab titled `title`; `key` tells reports of the same title apart
   * (e.g. a `.env` path). Returns the report's document URI.
   */
  async show(title: string, key: string, markdown: string): Promise<vscode.Uri> {
    const uri = this.uriOf(title, key);
    this.pages.set(uri.toString(), markdown);
    this.emitter.fire(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.languages.setTextDocumentLanguage(doc, 'markdown');
    await vscode.commands.executeCommand('markdown.showPreview', uri);
    return uri;
  }

  dispose(): void {
    this.registration.dispose();
    this.emitter.dispose();
  }
}
