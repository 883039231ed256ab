// Runs the extension in a real VS Code without internet: code-server (VS Code 1.100 server + web
// workbench, installed by scripts/vscode-e2e/install.mjs) driven by Debian's headless chromium via
// playwright-core. Facts behind each choice: ../../../docs/design/vscode-e2e.md; usage: ../README.md.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { format } from 'node:util';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import versions from '../../../scripts/vscode-e2e/code-server.json';
import { ARTIFACTS_DIR, REPO_ROOT } from './layout';

export const CODE_SERVER_VERSION: string = versions.codeServer;
export const CODE_SERVER_DIR = resolve(process.env.GLK_CODE_SERVER_DIR ?? join(REPO_ROOT, '.cache', 'code-server'));
export const CHROMIUM_PATH = process.env.GLK_CHROMIUM ?? '/usr/bin/chromium';
const ENTRY = join(CODE_SERVER_DIR, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const INSTALL_SCRIPT = join(REPO_ROOT, 'scripts', 'vscode-e2e', 'install.mjs');
const INSTALL_HINT = 'run `node scripts/vscode-e2e/install.mjs` (as root: apt packages + code-server into .cache/)';

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];

/** Settings every run gets (a clean, quiet workbench); `userSettings` add to or override them. */
const BASE_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  // With workspaceTrust on, a folder opens restricted without the modal prompt (which test windows refuse).
  'security.workspace.trust.startupPrompt': 'never',
};

type Env = Record<string, string | undefined>;
const verbose = process.env.GLK_VSCODE_VERBOSE === '1';
const keepRuns = process.env.GLK_VSCODE_KEEP === '1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Prerequisites

/** What is missing to run code-server tests here; empty when all is in place. */
export function missingPrerequisites(): string[] {
  const missing: string[] = [];
  const marker = join(CODE_SERVER_DIR, '.installed');
  if (!existsSync(ENTRY) || !existsSync(marker) || readFileSync(marker, 'utf8').split('\n')[0] !== CODE_SERVER_VERSION) {
    missing.push(`code-server ${CODE_SERVER_VERSION} in ${CODE_SERVER_DIR}`);
  }
  if (!existsSync(CHROMIUM_PATH)) missing.push(`chromium at ${CHROMIUM_PATH}`);
  return missing;
}

export type Prerequisites = { ok: true } | { ok: false; reason: string };

/**
 * Makes sure code-server and chromium are installed, running install.mjs (idempotent, ≈ 1.5–2 min the
 * first time) when something is missing, unless GLK_VSCODE_INSTALL=0. Synchronous so that a test file
 * can decide at load time whether its suite runs or is skipped.
 */
export function ensurePrerequisites(): Prerequisites {
  let missing = missingPrerequisites();
  if (missing.length === 0) return { ok: true };
  if (process.env.GLK_VSCODE_INSTALL !== '0') {
    process.stderr.write(`[vscode-e2e] missing ${missing.join(', ')}: running ${INSTALL_SCRIPT}\n`);
    // Output to stderr: a test file's stdout belongs to node's test runner.
    const result = spawnSync(process.execPath, [INSTALL_SCRIPT], { stdio: ['ignore', 2, 2], env: cleanEnv(process.env) });
    missing = missingPrerequisites();
    if (result.status === 0 && missing.length === 0) return { ok: true };
  }
  return { ok: false, reason: `VS Code e2e prerequisites missing (${missing.join(', ')}): ${INSTALL_HINT}` };
}

// ---------------------------------------------------------------------------------------------
// Process hygiene

/** Process groups this process started; killed if it exits without stopping them. */
const liveGroups = new Set<number>();
let exitHooked = false;

function trackGroup(pid: number): void {
  liveGroups.add(pid);
  if (exitHooked) return;
  exitHooked = true;
  const killAll = () => {
    for (const group of liveGroups) {
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    liveGroups.clear();
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to the whole group, SIGKILL after `graceMs`: the extension host survives a plain SIGTERM to code-server. */
async function killGroup(pid: number, graceMs = 3000): Promise<void> {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    try {
      process.kill(-pid, signal);
    } catch {
      break; // no such group any more
    }
    const deadline = Date.now() + (signal === 'SIGTERM' ? graceMs : 5000);
    while (groupAlive(pid) && Date.now() < deadline) await sleep(50);
    if (!groupAlive(pid)) break;
  }
  liveGroups.delete(pid);
}

/**
 * The environment for code-server (and so for the extension host, which inherits it) and chromium.
 * Drops what would leak the calling process into them: a VS Code terminal's VSCODE_* hooks, node's test
 * runner context, NODE_OPTIONS (tsx's loader).
 */
function cleanEnv(env: Env): Env {
  const out: Env = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined || key.startsWith('VSCODE_') || key === 'ELECTRON_RUN_AS_NODE') continue;
    if (key === 'NODE_OPTIONS' || key === 'NODE_TEST_CONTEXT') continue;
    out[key] = value;
  }
  return out;
}

/** HOME, XDG_* and TMPDIR inside `dir`: code-server and chromium write into $HOME even for --version. */
function isolatedHome(dir: string): Env {
  const home = join(dir, 'home');
  const env = {
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_RUNTIME_DIR: join(dir, 'run'),
    TMPDIR: join(dir, 'tmp'),
  };
  for (const path of Object.values(env)) mkdirSync(path, { recursive: true, mode: 0o700 });
  return env;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A run folder under the OS temp dir: short paths, as VS Code puts IPC sockets in it (108-byte limit). */
function makeRunDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

// ---------------------------------------------------------------------------------------------
// code-server

export interface CodeServerOptions {
  /** Folder code-server opens when a page names none (tests pass `?folder=` anyway). */
  workspace?: string;
  /** Extensions folder (e.g. where installExtension put a .vsix); default: a fresh one in the run folder. */
  extensionsDir?: string;
  /** Written to <user-data-dir>/User/settings.json over a quiet default. */
  userSettings?: Record<string, unknown>;
  /** Added to code-server's environment, which the extension host inherits. */
  env?: Env;
  /** Keep workspace trust on (to test restricted mode); default off (--disable-workspace-trust). */
  workspaceTrust?: boolean;
  /**
   * Let the server merge a login shell's environment (`$SHELL -ilc env`) into the extension host's, as
   * VS Code does for a user; it overrides the harness's PATH with /etc/profile's. Default false: the
   * extension host gets exactly code-server's environment (VSCODE_CLI=1 makes the server skip the shell).
   */
  resolveShellEnv?: boolean;
  /** Seconds to wait for /healthz; default 60. */
  startTimeoutSeconds?: number;
}

export interface CodeServer {
  url: string;
  port: number;
  pid: number;
  /** This run's folder: home/, tmp/, user-data/, extensions/, code-server.log. */
  runDir: string;
  userDataDir: string;
  extensionsDir: string;
  /** code-server's stdout + stderr so far. */
  output(): string;
  /** Kills code-server's process group (extension hosts included) and removes the run folder. */
  stop(): Promise<void>;
}

export async function startCodeServer(options: CodeServerOptions = {}): Promise<CodeServer> {
  if (!existsSync(ENTRY)) throw new Error(`code-server is not installed at ${CODE_SERVER_DIR}: ${INSTALL_HINT}`);
  const runDir = makeRunDir('glk-cs-');
  const userDataDir = join(runDir, 'user-data');
  const extensionsDir = options.extensionsDir ?? join(runDir, 'extensions');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(
    join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({ ...BASE_SETTINGS, ...options.userSettings }, null, 2),
  );

  const port = await freePort();
  const args = [
    ENTRY,
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir,
  ];
  if (!options.workspaceTrust) args.push('--disable-workspace-trust');
  if (options.workspace) args.push(options.workspace);
  const env = {
    ...cleanEnv(process.env),
    ...isolatedHome(runDir),
    EXTENSIONS_GALLERY: '{"serviceUrl":""}', // no marketplace: nothing to reach
    ...(options.resolveShellEnv ? {} : { VSCODE_CLI: '1' }),
    ...options.env,
  };

  const child: ChildProcess = spawn(process.execPath, args, { detached: true, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid!;
  trackGroup(pid);
  let output = '';
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    if (verbose) process.stderr.write(`[code-server] ${chunk}`);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let exited: string | undefined;
  child.on('exit', (code, signal) => (exited = `code ${code} signal ${signal}`));

  const url = `http://127.0.0.1:${port}`;
  let stopped = false;
  const server: CodeServer = {
    url, port, pid, runDir, userDataDir, extensionsDir,
    output: () => output,
    async stop() {
      if (stopped) return;
      stopped = true;
      await killGroup(pid);
      writeFileSync(join(runDir, 'code-server.log'), output);
      if (!keepRuns) rmSync(runDir, { recursive: true, force: true });
    },
  };

  const deadline = Date.now() + (options.startTimeoutSeconds ?? 60) * 1000;
  for (;;) {
    if (exited) {
      await server.stop();
      throw new Error(`code-server exited during start (${exited}):\n${output}`);
    }
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (response.status === 200) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`code-server did not answer ${url}/healthz within ${options.startTimeoutSeconds ?? 60} s:\n${output}`);
    }
    await sleep(100);
  }
}

/** `code-server --install-extension FILE --extensions-dir DIR --force`, with a throwaway HOME. */
export function installExtension(vsixPath: string, extensionsDir: string): string {
  const scratch = makeRunDir('glk-csi-');
  try {
    mkdirSync(extensionsDir, { recursive: true });
    const result = spawnSync(
      process.execPath,
      [ENTRY, '--install-extension', vsixPath, '--extensions-dir', extensionsDir, '--user-data-dir', join(scratch, 'user-data'), '--force'],
      { encoding: 'utf8', env: { ...cleanEnv(process.env), ...isolatedHome(scratch), EXTENSIONS_GALLERY: '{"serviceUrl":""}' } },
    );
    const output = `${result.stdout}${result.stderr}`;
    if (result.status !== 0 || !/successfully installed/i.test(output)) {
      throw new Error(`installing ${vsixPath} failed (exit ${result.status}):\n${output}`);
    }
    return output;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * `vsce package` of an extension folder into `outFile` (no dependency detection: a bundled extension
 * ships what its .vscodeignore lets through). Runs the extension's `vscode:prepublish` script if any.
 */
export function packageVsix(extensionDir: string, outFile: string, extraArgs: string[] = []): string {
  const vsce = require.resolve('@vscode/vsce/vsce', { paths: [REPO_ROOT] });
  const result = spawnSync(
    process.execPath,
    [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--out', outFile, ...extraArgs],
    { cwd: extensionDir, encoding: 'utf8', env: cleanEnv(process.env), input: '' },
  );
  if (result.status !== 0 || !existsSync(outFile)) {
    throw new Error(`vsce package in ${extensionDir} failed (exit ${result.status}):\n${result.stdout}${result.stderr}`);
  }
  return outFile;
}

// ---------------------------------------------------------------------------------------------
// Browser

interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** Headless Debian chromium with a fresh profile and HOME (playwright's own browsers are never downloaded). */
async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`chromium not found at ${CHROMIUM_PATH}: ${INSTALL_HINT}`);
  const dir = makeRunDir('glk-chr-');
  const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    env: { ...cleanEnv(process.env), ...isolatedHome(dir) },
    viewport: { width: 1400, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close().catch(() => undefined);
      if (!keepRuns) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Everything a failed run leaves for a human: a screenshot, the logs. Returns the screenshot path. */
async function saveArtifacts(page: Page, name: string, files: Record<string, string>, dir = ARTIFACTS_DIR): Promise<string | undefined> {
  mkdirSync(dir, { recursive: true });
  const stem = `${name.replace(/[^\w.-]+/g, '_')}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  for (const [suffix, text] of Object.entries(files)) writeFileSync(join(dir, `${stem}.${suffix}`), text);
  const path = join(dir, `${stem}.png`);
  try {
    await page.screenshot({ path, timeout: 10_000 });
    return path;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Extension-host mocha suite (the runTests() equivalent)

export interface ExtensionTestsOptions {
  /** Folder with the extension's package.json (for this repository: the repository root). */
  extensionDevelopmentPath: string;
  /** The suite entry (a .js file exporting `run()`) or a folder holding `index.js`. */
  extensionTestsPath: string;
  /** Folder the window opens. */
  workspace: string;
  /** Environment of the extension host; only when the harness starts its own code-server. */
  env?: Env;
  /** A running code-server to use (its env and extensions apply); default: one started for this run. */
  server?: CodeServer;
  /** Options for the code-server started for this run (userSettings, workspaceTrust, …). */
  serverOptions?: Omit<CodeServerOptions, 'env'>;
  /** Whole-run limit; on expiry the result has `timedOut` and a screenshot. Default 180 s. */
  timeoutMs?: number;
  /** Where a failed run's screenshot and logs go; default .cache/vscode-e2e/artifacts (GLK_VSCODE_ARTIFACTS). */
  artifactsDir?: string;
  /** Names the artifacts. */
  name?: string;
  /** Receives each line of the suite's output as it arrives. */
  onLog?: (line: string) => void;
}

export interface ExtensionTestsResult {
  /** The suite's exit code as reported by the workbench (0 = all passed); null on timeout. */
  exitCode: number | null;
  timedOut: boolean;
  /** Everything the workbench forwarded through codeAutomationLog (the suite's console output among it). */
  log: string;
  /** Set when the run failed or timed out. */
  screenshot?: string;
  durationMs: number;
}

function remoteUri(port: number, path: string): string {
  return `vscode-remote://127.0.0.1:${port}${resolve(path)}`;
}

/** `/?folder=…&payload=…`: the only way to hand a web workbench extensionDevelopmentPath/extensionTestsPath. */
export function workbenchUrl(server: CodeServer, folder: string, payload?: [string, string][]): string {
  const query = new URLSearchParams({ folder: resolve(folder) });
  if (payload) query.set('payload', JSON.stringify(payload));
  return `${server.url}/?${query}`;
}

/** The workbench forwards console calls as (level, [format, ...args]): mocha's reporter relies on %s/%d. */
function formatLogArgs(args: unknown): string {
  return Array.isArray(args) ? format(...args) : format(args);
}

export async function runExtensionTests(options: ExtensionTestsOptions): Promise<ExtensionTestsResult> {
  if (options.server && options.env) {
    throw new Error('env reaches the extension host through code-server: pass it to startCodeServer, not with a running server');
  }
  // VS Code itself would run a window without the extension, or fail late on a missing suite.
  if (!existsSync(join(options.extensionDevelopmentPath, 'package.json'))) {
    throw new Error(`extensionDevelopmentPath ${options.extensionDevelopmentPath} holds no package.json`);
  }
  const suiteEntry = statSync(options.extensionTestsPath, { throwIfNoEntry: false })?.isDirectory()
    ? join(options.extensionTestsPath, 'index.js')
    : options.extensionTestsPath;
  if (!existsSync(suiteEntry)) throw new Error(`extensionTestsPath ${suiteEntry} does not exist (suite not built?)`);
  if (!existsSync(options.workspace)) throw new Error(`workspace ${options.workspace} does not exist`);

  const started = Date.now();
  const server = options.server ?? (await startCodeServer({ ...options.serverOptions, workspace: options.workspace, env: options.env }));
  const lines: string[] = [];
  const pageErrors: string[] = [];
  let browser: Browser | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    browser = await launchBrowser();
    const { page } = browser;
    let reportExit!: (code: number) => void;
    const exited = new Promise<number>((r) => (reportExit = r));
    await page.exposeFunction('codeAutomationLog', (level: string, args: unknown) => {
      const text = formatLogArgs(args);
      for (const line of text.split('\n')) {
        lines.push(level === 'info' || level === 'log' ? line : `[${level}] ${line}`);
        options.onLog?.(line);
        if (verbose) process.stderr.write(`[exthost-tests] ${line}\n`);
      }
    });
    await page.exposeFunction('codeAutomationExit', (code: number) => reportExit(code));
    page.on('pageerror', (error) => pageErrors.push(String(error)));

    const url = workbenchUrl(server, options.workspace, [
      ['extensionDevelopmentPath', remoteUri(server.port, options.extensionDevelopmentPath)],
      ['extensionTestsPath', remoteUri(server.port, options.extensionTestsPath)],
      ['skipWelcome', 'true'],
    ]);
    const timeoutMs = options.timeoutMs ?? 180_000;
    const timeout = new Promise<null>((r) => (timer = setTimeout(() => r(null), timeoutMs - (Date.now() - started))));
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    const exitCode = await Promise.race([exited, timeout]);

    const log = lines.join('\n');
    const result: ExtensionTestsResult = { exitCode, timedOut: exitCode === null, log, durationMs: Date.now() - started };
    if (exitCode !== 0) {
      result.screenshot = await saveArtifacts(
        page,
        options.name ?? 'extension-tests',
        { 'suite.log': log, 'code-server.log': server.output(), 'page-errors.log': pageErrors.join('\n') },
        options.artifactsDir,
      );
    }
    return result;
  } finally {
    clearTimeout(timer);
    await browser?.close();
    if (!options.server) await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// UI tests

export interface Workbench {
  page: Page;
  /** Waits until the activity bar shows an item whose title starts with `title`; returns it. */
  waitForActivityBarItem(title: string, timeoutMs?: number): Promise<Locator>;
  /** Opens the view container behind an activity-bar item. */
  openActivityBarItem(title: string, timeoutMs?: number): Promise<void>;
  /** F1, types the command's full palette title ("Category: Title"), runs it. Retries while commands are still registering. */
  runCommand(title: string, timeoutMs?: number): Promise<void>;
  /** The messages of the notification toasts now visible. */
  notifications(): Promise<string[]>;
  /** Waits for a toast whose message matches; returns its text. */
  waitForNotification(match: string | RegExp, timeoutMs?: number): Promise<string>;
  /** Labels of the rendered (visible) rows of the view whose header reads `viewName`. */
  treeItems(viewName: string): Promise<string[]>;
  /** Saves a screenshot into the artifacts folder; returns its path. */
  screenshot(name: string): Promise<string>;
  /** Screenshot + code-server log into the artifacts folder (call from a failing test). */
  saveFailure(name: string): Promise<string | undefined>;
  close(): Promise<void>;
}

export interface OpenWorkbenchOptions {
  server: CodeServer;
  /** Folder to open. */
  folder: string;
  artifactsDir?: string;
  /** Limit for the workbench to paint; default 60 s. */
  timeoutMs?: number;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export async function openWorkbench(options: OpenWorkbenchOptions): Promise<Workbench> {
  const { server } = options;
  const artifactsDir = options.artifactsDir ?? ARTIFACTS_DIR;
  const browser = await launchBrowser();
  const { page } = browser;
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  try {
    await page.goto(workbenchUrl(server, options.folder, [['skipWelcome', 'true']]), { waitUntil: 'domcontentloaded', timeout: 60_000 });
    await page.locator('.monaco-workbench .part.activitybar').waitFor({ state: 'visible', timeout: options.timeoutMs ?? 60_000 });
  } catch (error) {
    await saveArtifacts(page, 'open-workbench', { 'code-server.log': server.output(), 'page-errors.log': pageErrors.join('\n') }, artifactsDir);
    await browser.close();
    throw error;
  }

  const activityItem = (title: string) =>
    page.locator(`.part.activitybar .action-item a.action-label[aria-label^="${title.replace(/"/g, '\\"')}"]`).first();
  const quickInput = page.locator('.quick-input-widget');

  const workbench: Workbench = {
    page,
    async waitForActivityBarItem(title, timeoutMs = 30_000) {
      const item = activityItem(title);
      await item.waitFor({ state: 'attached', timeout: timeoutMs });
      return item;
    },
    async openActivityBarItem(title, timeoutMs = 30_000) {
      const item = await workbench.waitForActivityBarItem(title, timeoutMs);
      const container = item.locator('xpath=..');
      if ((await container.getAttribute('class'))?.includes('checked')) return;
      await item.click();
    },
    async runCommand(title, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      const row = quickInput.locator('.monaco-list-row', {
        has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(title)}\\s*$`) }),
      });
      for (;;) {
        await page.keyboard.press('F1');
        const input = quickInput.locator('input.input');
        await input.waitFor({ state: 'visible', timeout: 10_000 });
        await input.fill(`>${title}`);
        try {
          // The extension's commands arrive 1–3 s after the workbench paints ("No matching commands" before).
          await row.first().waitFor({ state: 'visible', timeout: 2000 });
          await row.first().click();
          await quickInput.waitFor({ state: 'hidden', timeout: 10_000 });
          return;
        } catch (error) {
          await page.keyboard.press('Escape');
          if (Date.now() > deadline) throw new Error(`command "${title}" not found in the palette within ${timeoutMs} ms: ${error}`, { cause: error });
          await sleep(500);
        }
      }
    },
    async notifications() {
      return (await page.locator('.notifications-toasts .notification-list-item-message').allTextContents()).map((t) => t.trim());
    },
    async waitForNotification(match, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = (await workbench.notifications()).find((text) => (typeof match === 'string' ? text.includes(match) : match.test(text)));
        if (found !== undefined) return found;
        if (Date.now() > deadline) {
          throw new Error(`no notification matching ${match} within ${timeoutMs} ms; visible: ${JSON.stringify(await workbench.notifications())}`);
        }
        await sleep(100);
      }
    },
    async treeItems(viewName) {
      const pane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: viewName }) }).first();
      await pane.locator('.monaco-list-row').first().waitFor({ state: 'visible', timeout: 15_000 });
      return (await pane.locator('.monaco-list-row .label-name').allTextContents()).map((t) => t.trim());
    },
    async screenshot(name) {
      mkdirSync(artifactsDir, { recursive: true });
      const path = join(artifactsDir, `${name.replace(/[^\w.-]+/g, '_')}.png`);
      await page.screenshot({ path });
      return path;
    },
    saveFailure: (name) =>
      saveArtifacts(page, name, { 'code-server.log': server.output(), 'page-errors.log': pageErrors.join('\n') }, artifactsDir),
    close: () => browser.close(),
  };
  return workbench;
}
