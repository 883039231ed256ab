/**
 * Read-only Markdown documents the commands render their reports into (encryption status, backup
 * checks, key-copy checks): one document per report name, updated in place when it is shown again.
 * Reports hold counts, paths and fingerprints only, never a key.
 */
import * as vscode from 'vscode';

export const REPORT_SCHEME = 'gptload-report';

export class ReportDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly pages = new Map<string, string>();
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;
  private readonly registration = vscode.workspace.registerTextDocumentContentProvider(REPORT_SCHEME, this);

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.pages.get(uri.toString()) ?? '';
  }

  /** Shows `markdown` as `<name>.md`; `key` tells reports of the same name apart (e.g. a `.env` path). */
  async show(name: string, key: string, markdown: string): Promise<void> {
    const uri = vscode.Uri.from({ scheme: REPORT_SCHEME, path: `/${name.replace(/[\\/]/g, '_')}.md`, query: key });
    this.pages.set(uri.toString(), markdown);
    this.emitter.fire(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.languages.setTextDocumentLanguage(doc, 'markdown');
    await vscode.window.showTextDocument(doc, { preview: true });
  }

  dispose(): void {
    this.registration.dispose();
    this.emitter.dispose();
  }
}
