/**
 * The GPT-Load deployments of the workspace: one per `.env` (found, or listed in gptLoad.envFiles),
 * and which one is active (remembered per workspace). Discovery is asynchronous and never part
 * of activation's critical path.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import * as vscode from 'vscode';
import type { Config } from './config';

export interface Deployment {
  /** Absolute path of the `.env`. */
  envFile: string;
  folder: vscode.WorkspaceFolder | undefined;
  /** Short name for pickers and tree rows: folder-relative path of the `.env`'s directory. */
  label: string;
}

const ACTIVE_KEY = 'gptLoad.activeDeployment';
const EXCLUDE = '**/{node_modules,.git,.cache,dist}/**';

export class Deployments implements vscode.Disposable {
  private list: Deployment[] = [];
  private discovering: Promise<Deployment[]> | undefined;
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [this.emitter];

  constructor(
    private readonly config: Config,
    private readonly state: vscode.Memento,
  ) {
    const watcher = vscode.workspace.createFileSystemWatcher('**/.env', false, true, false);
    watcher.onDidCreate(() => this.invalidate());
    watcher.onDidDelete(() => this.invalidate());
    this.disposables.push(
      watcher,
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.invalidate()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('gptLoad.envFiles')) this.invalidate();
      }),
    );
  }

  private invalidate(): void {
    this.discovering = undefined;
    void this.all().then(() => this.emitter.fire());
  }

  /** Every deployment, discovering them on first use. */
  all(): Promise<Deployment[]> {
    this.discovering ??= this.discover().then((list) => (this.list = list));
    return this.discovering;
  }

  /** The deployments known so far, without waiting for discovery. */
  get known(): Deployment[] {
    return this.list;
  }

  private async discover(): Promise<Deployment[]> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    const files = new Map<string, vscode.WorkspaceFolder | undefined>();
    for (const folder of folders) {
      for (const entry of this.config.envFiles(folder)) {
        const path = isAbsolute(entry) ? entry : join(folder.uri.fsPath, entry);
        if (existsSync(path)) files.set(path, folder);
      }
    }
    if (files.size === 0) {
      for (const uri of await vscode.workspace.findFiles('**/.env', EXCLUDE, 200)) {
        if (uri.scheme === 'file') files.set(uri.fsPath, vscode.workspace.getWorkspaceFolder(uri));
      }
    }
    return [...files]
      .map(([envFile, folder]) => ({ envFile, folder, label: labelOf(envFile, folder, folders.length > 1) }))
      .sort((a, b) => a.envFile.split(/[\\/]/).length - b.envFile.split(/[\\/]/).length || a.envFile.localeCompare(b.envFile));
  }

  /** The active deployment: the chosen one if it still exists, else the first found. */
  async active(): Promise<Deployment | undefined> {
    const list = await this.all();
    const chosen = this.state.get<string>(ACTIVE_KEY);
    return list.find((d) => d.envFile === chosen) ?? list[0];
  }

  async setActive(deployment: Deployment): Promise<void> {
    await this.state.update(ACTIVE_KEY, deployment.envFile);
    this.emitter.fire();
  }

  /** The deployment a `.env` path belongs to (adds it when it was not discovered, e.g. outside the workspace). */
  async forEnvFile(envFile: string): Promise<Deployment> {
    const list = await this.all();
    const found = list.find((d) => d.envFile === envFile);
    if (found) return found;
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(envFile));
    const added = { envFile, folder, label: labelOf(envFile, folder, true) };
    this.list = [...list, added];
    this.discovering = Promise.resolve(this.list);
    this.emitter.fire();
    return added;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

function labelOf(envFile: string, folder: vscode.WorkspaceFolder | undefined, multiRoot: boolean): string {
  const dir = dirname(envFile);
  if (!folder) return dir;
  const inFolder = relative(folder.uri.fsPath, dir).split(sep).join('/');
  if (inFolder === '') return folder.name;
  return multiRoot ? `${folder.name}/${inFolder}` : inFolder;
}
