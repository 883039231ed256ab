/**
 * Which Node runs the daemon. The daemon opens SQLite through better-sqlite3, a native module built
 * for one Node ABI (`process.versions.modules`), recorded in dist/native/abi.json when the extension
 * is packaged. Desktop VS Code runs extensions on Electron, whose ABI differs from any Node's, so
 * the order is: the `gptLoad.daemon.runtime` setting, then `node` on PATH, then VS Code's own
 * runtime (ELECTRON_RUN_AS_NODE) — the first whose ABI matches. If none matches the daemon still
 * runs on VS Code's runtime, so .env features and MySQL/PostgreSQL work, and SQLite says why not.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What scripts/copy-native.mjs writes beside the shipped binary. */
interface NativeInfo {
  /** process.versions.modules of the Node the binary was built for. */
  abi: string;
  /** That Node's version, for messages. */
  node?: string;
  platform?: string;
  arch?: string;
  /** Absolute path of better_sqlite3.node. */
  binding: string;
}

export interface RuntimeCandidate {
  source: 'setting' | 'path' | 'vscode';
  /** Executable; undefined = VS Code's own runtime (the daemon is forked with ELECTRON_RUN_AS_NODE). */
  executable: string | undefined;
  /** Resolved executable, ABI and version as the runtime reported them; error when it did not run. */
  abi?: string;
  version?: string;
  resolved?: string;
  error?: string;
}

export interface RuntimeChoice {
  chosen: RuntimeCandidate;
  candidates: RuntimeCandidate[];
  native: NativeInfo | undefined;
  /** Path to pass to the daemon (GPT_LOAD_KEYSTORE_NATIVE) when the chosen runtime can load it. */
  nativeBinding: string | undefined;
  /** Why SQLite cannot be opened with the chosen runtime; undefined when it can. */
  sqliteProblem: SqliteProblem | undefined;
}

/** missing: no binary shipped; abi: no runtime has the binary's ABI (`seen` lists what each had). */
export type SqliteProblem = { kind: 'missing' } | { kind: 'abi'; abi: string; node: string; seen: string };

/** Node major versions by ABI, for a helpful message (Electron ABIs are not listed on purpose). */
const NODE_BY_ABI: Record<string, string> = { '108': '18', '115': '20', '127': '22', '131': '23', '137': '24', '141': '25' };

function nodeForAbi(abi: string): string {
  return NODE_BY_ABI[abi] ? `Node.js ${NODE_BY_ABI[abi]}` : `a Node.js with ABI ${abi}`;
}

/** dist/native/abi.json of a packaged extension; in a development checkout, node_modules' build. */
function readNativeInfo(extensionPath: string): NativeInfo | undefined {
  const dir = join(extensionPath, 'dist', 'native');
  try {
    const info = JSON.parse(readFileSync(join(dir, 'abi.json'), 'utf8')) as Omit<NativeInfo, 'binding'> & { binding?: string };
    const binding = join(dir, info.binding ?? 'better_sqlite3.node');
    if (typeof info.abi === 'string' && existsSync(binding)) return { ...info, binding };
  } catch {
    // not packaged: fall through to the development build
  }
  return undefined;
}

const PROBE = 'process.versions.modules+"\\n"+process.version+"\\n"+process.execPath';

/** Runs `executable -p …` to learn its ABI; never throws, never takes more than `timeoutMs`. */
export function probeRuntime(candidate: RuntimeCandidate, timeoutMs = 5000): Promise<RuntimeCandidate> {
  if (candidate.executable === undefined) {
    return Promise.resolve({ ...candidate, abi: process.versions.modules, version: process.version, resolved: process.execPath });
  }
  return new Promise((resolve) => {
    execFile(
      candidate.executable!,
      ['-p', PROBE],
      { timeout: timeoutMs, windowsHide: true, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } },
      (error, stdout) => {
        const [abi, version, resolved] = stdout.trim().split('\n');
        if (error || !abi || !/^\d+$/.test(abi)) {
          resolve({ ...candidate, error: error?.message.split('\n')[0] ?? `unexpected output: ${stdout.slice(0, 80)}` });
        } else {
          resolve({ ...candidate, abi, version, resolved });
        }
      },
    );
  });
}

export interface ChooseOptions {
  extensionPath: string;
  /** gptLoad.daemon.runtime ('' = not set). */
  setting: string;
  /** For tests: a different probe. */
  probe?: (candidate: RuntimeCandidate) => Promise<RuntimeCandidate>;
  /** Where better-sqlite3's development build lives, when not packaged. */
  developmentBinding?: string;
}

export async function chooseRuntime(options: ChooseOptions): Promise<RuntimeChoice> {
  const probe = options.probe ?? ((c: RuntimeCandidate) => probeRuntime(c));
  let native = readNativeInfo(options.extensionPath);
  if (!native) {
    // A development checkout: better-sqlite3 was built by `npm install` for the Node on PATH.
    const binding = options.developmentBinding ?? join(options.extensionPath, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
    if (existsSync(binding)) native = { abi: '', binding };
  }

  const wanted: RuntimeCandidate[] = [];
  if (options.setting) wanted.push({ source: 'setting', executable: options.setting });
  wanted.push({ source: 'path', executable: process.platform === 'win32' ? 'node.exe' : 'node' });
  wanted.push({ source: 'vscode', executable: undefined });
  const candidates = await Promise.all(wanted.map(probe));

  const runs = (c: RuntimeCandidate) => c.abi !== undefined;
  // An unknown ABI (development build) is taken to be the ABI of the first runnable Node.
  const abi = native ? native.abi || candidates.find((c) => c.source !== 'vscode' && runs(c))?.abi : undefined;
  const match = abi !== undefined ? candidates.find((c) => runs(c) && c.abi === abi) : undefined;
  if (match && native) return { chosen: match, candidates, native, nativeBinding: native.binding, sqliteProblem: undefined };

  const chosen = candidates.find((c) => c.source === 'vscode')!;
  let sqliteProblem: SqliteProblem;
  if (!native) {
    sqliteProblem = { kind: 'missing' };
  } else {
    const seen = candidates
      .map((c) => `${c.source === 'setting' ? `gptLoad.daemon.runtime (${c.executable})` : c.source === 'path' ? 'node on PATH' : "VS Code's runtime"}: ${c.abi !== undefined ? `ABI ${c.abi} (${c.version})` : `not usable (${c.error})`}`)
      .join('; ');
    sqliteProblem = { kind: 'abi', abi: abi!, node: nodeForAbi(abi!), seen };
  }
  return { chosen, candidates, native, nativeBinding: undefined, sqliteProblem };
}

/** One line for the output channel. */
export function describeChoice(choice: RuntimeChoice): string {
  const c = choice.chosen;
  const where = c.source === 'setting' ? 'gptLoad.daemon.runtime' : c.source === 'path' ? 'node on PATH' : "VS Code's own runtime";
  const base = `daemon runtime: ${where} ${c.resolved ?? c.executable ?? process.execPath} (${c.version ?? '?'}, ABI ${c.abi ?? '?'})`;
  const problem = choice.sqliteProblem;
  if (!problem) return `${base}; SQLite module ${choice.native?.binding}`;
  return problem.kind === 'missing'
    ? `${base}; SQLite unavailable: better_sqlite3.node is not part of this installation`
    : `${base}; SQLite unavailable: the module needs ABI ${problem.abi} (${problem.node}); ${problem.seen}`;
}
