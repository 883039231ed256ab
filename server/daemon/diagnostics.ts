/**
 * Diagnostics of open `.env` and compose documents. Lint findings (server/core/lint.ts) go out on
 * open and on every change, from the document's one parse (envView). A change after a pause is
 * linted at once; changes arriving faster than twice the document's last lint time (at most
 * MAX_DEBOUNCE_MS) are a burst and coalesce into one lint after it: latency stays the lint's own,
 * CPU stays bounded while typing fast.
 *
 * What costs I/O stays off the typing path: the git check (git processes, cached per file for
 * GIT_TTL_MS) and the database check (dbcheck.ts, cached per database and key) only start after the
 * diagnostics are written, and after a change only once the text has rested for QUIET_MS (at once
 * on open). A lint uses the cached answers; when a check lands, the document's diagnostics are
 * published again with its findings.
 */
import type { Connection, Diagnostic, TextDocuments } from 'vscode-languageserver/node';
import { DiagnosticSeverity } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { localize, type Lang, type Localized } from '../core/errors';
import { lintEnv, type Finding } from '../core/lint';
import { gitIgnoreState, type GitIgnoreState } from '../keystore/gitCheck';
import { authKeyMatch } from '../keystore/proxyKeys';
import type { DatabaseTarget } from '../store/dsn';
import { DaemonDiagnosticCodes, DIAGNOSTIC_SOURCE, EnvDatabaseStatusNotification, type EnvDatabaseStatus } from '../../shared/protocol';
import { isComposeFileName } from '../core/compose';
import { composeDiagnostics, fileUriToPath } from './compose';
import type { DatabaseChecks, DbCheck } from './dbcheck';
import { envView, forgetView, isDotenvDocument, rangeFor, type EnvView } from './envView';
import { log } from './log';
import { printable } from '../../shared/printable';
import type { Session } from './session';

const MAX_DEBOUNCE_MS = 200;
const GIT_TTL_MS = 30_000;
/** A change starts the background checks only when no other change followed for this long. */
const QUIET_MS = 400;
/** Proxy-key findings shown at most; the rest are summed up in one. */
const MAX_PROXY_FINDINGS = 20;

const SEVERITY: Record<Finding['severity'], DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
};

export type DocumentKind = 'dotenv' | 'compose';

export function documentKind(document: TextDocument): DocumentKind | null {
  if (isDotenvDocument(document.uri, document.languageId)) return 'dotenv';
  const path = fileUriToPath(document.uri);
  if ((path !== null && isComposeFileName(path)) || document.languageId === 'dockercompose') return 'compose';
  return null;
}

interface DocState {
  /** Cancels the pending lint run, if any. */
  timer?: () => void;
  /** Cancels the background checks waiting for the text to rest, if any. */
  background?: () => void;
  lintMs: number;
  lastChange: number;
  lint: Diagnostic[];
  version: number;
}

const n = (value: number) => value.toLocaleString('en-US');

export class DiagnosticsScheduler {
  private readonly states = new Map<string, DocState>();
  private readonly git = new Map<string, { at: number; state: GitIgnoreState | undefined; pending: boolean }>();

  constructor(
    private readonly session: Session,
    private readonly documents: TextDocuments<TextDocument>,
    private readonly checks: DatabaseChecks,
  ) {}

  private get connection(): Connection {
    return this.session.connection;
  }

  schedule(document: TextDocument, immediately = false): void {
    // Before initialize the client has not said whether it trusts the folder: nothing runs.
    if (!this.session.initialized || documentKind(document) === null) return;
    const state = this.states.get(document.uri) ?? { lintMs: 0, lastChange: 0, lint: [], version: -1 };
    this.states.set(document.uri, state);
    state.timer?.();
    state.background?.();
    const window = Math.min(MAX_DEBOUNCE_MS, Math.ceil(2 * state.lintMs));
    const now = performance.now();
    const inBurst = now - state.lastChange < window;
    state.lastChange = now;
    const run = () => {
      state.timer = undefined;
      const current = this.documents.get(document.uri);
      if (current) this.validate(current, state, immediately);
    };
    // setImmediate, not setTimeout(0): a timer waits at least a millisecond.
    if (immediately || !inBurst) {
      const handle = setImmediate(run);
      state.timer = () => clearImmediate(handle);
    } else {
      const handle = setTimeout(run, window);
      state.timer = () => clearTimeout(handle);
    }
  }

  close(uri: string): void {
    this.states.get(uri)?.timer?.();
    this.states.get(uri)?.background?.();
    this.states.delete(uri);
    forgetView(uri);
    void this.connection.sendDiagnostics({ uri, diagnostics: [] });
  }

  /** Everything published again (language or options changed, or a database check landed). */
  refreshAll(): void {
    for (const document of this.documents.all()) this.schedule(document, true);
  }

  /** `urgent`: opened or refreshed, not typed — the background checks start at once. */
  private validate(document: TextDocument, state: DocState, urgent: boolean): void {
    const started = performance.now();
    try {
      const kind = documentKind(document);
      if (kind === 'compose') {
        state.lint = composeDiagnostics(document, this.session.lang);
        state.version = document.version;
        this.publish(document, state, []);
        return;
      }
      const view = envView(document);
      const ignoredByGit = view.path === null ? undefined : this.git.get(view.path)?.state;
      state.lint = lintEnv(view.text, { lang: this.session.lang, ignoredByGit }, view.doc).map(toDiagnostic);
      state.version = document.version;
      this.publish(document, state, this.databaseDiagnostics(view));
      // The connection writes on a later turn of the event loop (setImmediate): queued after it.
      const checks = () => this.backgroundChecks(view, state);
      if (urgent) {
        const handle = setImmediate(checks);
        state.background = () => clearImmediate(handle);
      } else {
        const handle = setTimeout(checks, QUIET_MS);
        state.background = () => clearTimeout(handle);
      }
    } catch (err) {
      // A bug in a rule must not take the daemon down; the document's stale findings are cleared.
      log.error(`diagnostics of a document failed: ${(err as Error).name}: ${(err as Error).message}`);
      state.lint = [];
      state.version = document.version;
      this.publish(document, state, []);
    } finally {
      state.lintMs = performance.now() - started;
      log.trace(`diagnostics in ${state.lintMs.toFixed(2)} ms`);
    }
  }

  private publish(document: TextDocument, state: DocState, database: Diagnostic[]): void {
    // Each code links to its section of the docs, as ESLint's rules do.
    const diagnostics = [...state.lint, ...database].map((d) => {
      const href = typeof d.code === 'string' ? this.session.docsLink(d.code) : null;
      return href ? { ...d, codeDescription: { href } } : d;
    });
    void this.connection.sendDiagnostics({ uri: document.uri, version: document.version, diagnostics });
  }

  /** The git answer when missing or stale, and the database check when none is cached; both land with a new publish. */
  private backgroundChecks(view: EnvView, state: DocState): void {
    state.background = undefined;
    // Untrusted: git would run the repository's own configured commands (core.fsmonitor, …).
    if (!this.session.options.trusted) return;
    if (view.path !== null) this.refreshGitState(view.path);
    const { target } = view;
    if (this.session.checksDatabase && target !== null && !view.doc.error && !this.checks.peek(target, view.encryptionKey)) {
      this.runDatabaseCheck(view, target);
    }
  }

  private refreshGitState(path: string): void {
    const known = this.git.get(path);
    if (!known || (!known.pending && Date.now() - known.at > GIT_TTL_MS)) {
      const entry = { at: Date.now(), state: known?.state, pending: true };
      this.git.set(path, entry);
      void gitIgnoreState(path)
        .catch(() => undefined)
        .then((state) => {
          entry.pending = false;
          entry.at = Date.now();
          if (state === entry.state) return;
          entry.state = state;
          for (const d of this.documents.all()) if (fileUriToPath(d.uri) === path) this.schedule(d, true);
        });
    }
  }

  /** The database findings available now (a cached check's); backgroundChecks starts a missing one. */
  private databaseDiagnostics(view: EnvView): Diagnostic[] {
    if (view.targetError) {
      return [
        {
          range: rangeFor(view, 'DATABASE_DSN'),
          severity: DiagnosticSeverity.Error,
          source: DIAGNOSTIC_SOURCE,
          code: DaemonDiagnosticCodes.databaseUnreachable,
          message: view.targetError.localized(this.session.lang),
        },
      ];
    }
    if (!this.session.checksDatabase || view.target === null || view.doc.error) return [];
    const cached = this.checks.peek(view.target, view.encryptionKey);
    return cached ? checkDiagnostics(cached, view, this.session.lang) : [];
  }

  private runDatabaseCheck(view: EnvView, target: DatabaseTarget): void {
    const { uri, version } = view;
    void this.checks.run(target, view.encryptionKey).then((check) => {
      const document = this.documents.get(uri);
      const state = this.states.get(uri);
      this.notifyStatus(uri, check);
      // Only onto the text it was computed for: a newer version gets its own lint run anyway.
      if (document && state && document.version === version && state.version === version) {
        this.publish(document, state, checkDiagnostics(check, envView(document), this.session.lang));
      }
    });
  }

  private notifyStatus(uri: string, check: DbCheck): void {
    const status: EnvDatabaseStatus = check.ok
      ? {
          state: check.state,
          target: check.target,
          keyFingerprint: check.fingerprint,
          basis: check.examined >= check.totalKeys ? 'exact' : 'sample',
          sampled: check.examined,
          decrypting: check.encrypted,
          plaintext: check.plaintext,
          totalKeys: check.totalKeys,
          message: null,
        }
      : {
          state: 'unreachable',
          target: check.target,
          keyFingerprint: check.fingerprint,
          basis: 'none',
          sampled: 0,
          decrypting: 0,
          plaintext: 0,
          totalKeys: 0,
          message: check.error.localized(this.session.lang),
        };
    void this.connection.sendNotification(EnvDatabaseStatusNotification.type, { uri, status });
  }
}

function toDiagnostic(f: Finding): Diagnostic {
  return { range: f.range, severity: SEVERITY[f.severity], source: DIAGNOSTIC_SOURCE, code: f.code, message: f.message, data: f.data };
}

/** "0 of 12,345 keys" when every key was examined, "0 of the first 2,000 of 12,345 keys" otherwise. */
function ofKeys(count: number, check: Extract<DbCheck, { ok: true }>): Localized {
  return check.examined >= check.totalKeys
    ? { en: `${n(count)} of ${n(check.totalKeys)} stored keys`, zh: `已存储的 ${n(check.totalKeys)} 个密钥中有 ${n(count)} 个` }
    : {
        en: `${n(count)} of the first ${n(check.examined)} (of ${n(check.totalKeys)}) stored keys`,
        zh: `已存储的 ${n(check.totalKeys)} 个密钥中，前 ${n(check.examined)} 个里有 ${n(count)} 个`,
      };
}

function checkDiagnostics(check: DbCheck, view: EnvView, lang: Lang): Diagnostic[] {
  const t = (text: Localized) => localize(text, lang);
  const out: Diagnostic[] = [];
  const add = (range: Diagnostic['range'], severity: DiagnosticSeverity, code: string, text: Localized, data?: Record<string, unknown>) =>
    // Messages quote stored text (group names): shown escaped.
    out.push({ range, severity, source: DIAGNOSTIC_SOURCE, code, message: printable(t(text)), ...(data ? { data } : {}) });

  if (!check.ok) {
    // A missing SQLite file at the default place is a deployment GPT-Load has not started yet.
    if (check.code === 'database-missing' && !view.last.get('DATABASE_DSN')?.value) return [];
    add(rangeFor(view, 'DATABASE_DSN'), DiagnosticSeverity.Information, DaemonDiagnosticCodes.databaseUnreachable, {
      en: `Cannot check the database this .env points at: ${check.error.text.en}`,
      zh: `无法检查此 .env 指向的数据库：${check.error.text.zh}`,
    });
    return out;
  }

  const keyRange = rangeFor(view, 'ENCRYPTION_KEY');
  const migrate = { fix: 'migrate-keys' };
  const fp = check.fingerprint;
  switch (check.state) {
    case 'wrong-key': {
      const of = ofKeys(0, check);
      add(keyRange, DiagnosticSeverity.Error, DaemonDiagnosticCodes.keyMismatch, {
        en: `${of.en} decrypt with this ENCRYPTION_KEY (fingerprint ${fp}): it is not the key the data was encrypted with, so GPT-Load shows every key as failed-to-decrypt. Use the right key, or migrate from it.`,
        zh: `${of.zh}能用此 ENCRYPTION_KEY（指纹 ${fp}）解密：它不是加密数据时使用的密钥，GPT-Load 会把所有密钥显示为 failed-to-decrypt。请使用正确的密钥，或从正确的密钥迁移。`,
      }, migrate);
      break;
    }
    case 'needs-migration': {
      const of = ofKeys(check.plaintext, check);
      add(keyRange, DiagnosticSeverity.Error, DaemonDiagnosticCodes.dataNotEncrypted, {
        en: `ENCRYPTION_KEY is set, but ${of.en} are plaintext: GPT-Load cannot decrypt them (failed-to-decrypt). Migrate the keys to this ENCRYPTION_KEY, or clear it.`,
        zh: `已设置 ENCRYPTION_KEY，但${of.zh}是明文：GPT-Load 无法解密它们（failed-to-decrypt）。请把密钥迁移到此 ENCRYPTION_KEY，或清空它。`,
      }, migrate);
      break;
    }
    case 'key-missing': {
      const of = ofKeys(check.unknown, check);
      add(view.last.has('ENCRYPTION_KEY') ? keyRange : rangeFor(view, 'DATABASE_DSN', 'entry'), DiagnosticSeverity.Error, DaemonDiagnosticCodes.keyNotConfigured, {
        en: `${of.en} are encrypted, but ENCRYPTION_KEY is not set: GPT-Load cannot use them. Set the ENCRYPTION_KEY they were encrypted with (check your copies), or migrate them to plaintext.`,
        zh: `${of.zh}已加密，但未设置 ENCRYPTION_KEY：GPT-Load 无法使用它们。请设置加密它们时使用的 ENCRYPTION_KEY（核对你保存的副本），或将其迁移为明文。`,
      }, migrate);
      break;
    }
    case 'mixed': {
      const total = check.examined < check.totalKeys ? { en: `the first ${n(check.examined)} of ${n(check.totalKeys)}`, zh: `${n(check.totalKeys)} 个中的前 ${n(check.examined)} 个` } : { en: n(check.totalKeys), zh: n(check.totalKeys) };
      add(keyRange, DiagnosticSeverity.Warning, DaemonDiagnosticCodes.mixedState, {
        en: `Stored keys are in more than one state — of ${total.en}: ${n(check.plaintext)} plaintext, ${n(check.encrypted)} encrypted with this ENCRYPTION_KEY, ${n(check.unknown)} undecryptable. An interrupted or hand-made change: finish it with a migration.`,
        zh: `已存储的密钥处于多种状态——${total.zh}中：${n(check.plaintext)} 个明文，${n(check.encrypted)} 个用此 ENCRYPTION_KEY 加密，${n(check.unknown)} 个无法解密。这是中断或手工造成的变更：请通过迁移完成它。`,
      }, migrate);
      break;
    }
  }

  const authRange = rangeFor(view, 'AUTH_KEY');
  // One finding per stored entry of a weak key, named as the dashboard names it.
  const weakProxyKeys = check.proxyKeys.flatMap((key) => (key.warnings.length > 0 ? key.places.map((where) => ({ where, key })) : []));
  for (const { where, key } of weakProxyKeys.slice(0, MAX_PROXY_FINDINGS)) {
    const high = key.warnings.some((w) => w.severity === 'high');
    add(authRange, high ? DiagnosticSeverity.Warning : DiagnosticSeverity.Information, DaemonDiagnosticCodes.weakProxyKey, {
      en: `GPT-Load dashboard — ${where.en} (${key.masked}): ${key.warnings.map((w) => w.text.en).join('; ')}`,
      zh: `GPT-Load 仪表盘——${where.zh}（${key.masked}）：${key.warnings.map((w) => w.text.zh).join('；')}`,
    });
  }
  if (weakProxyKeys.length > MAX_PROXY_FINDINGS) {
    const more = weakProxyKeys.length - MAX_PROXY_FINDINGS;
    add(authRange, DiagnosticSeverity.Information, DaemonDiagnosticCodes.weakProxyKey, {
      en: `…and ${n(more)} more weak proxy keys (GPT-Load's dashboard lists them all).`,
      zh: `……另有 ${n(more)} 个弱代理密钥（GPT-Load 仪表盘会全部列出）。`,
    });
  }
  const isAuthKey = authKeyMatch(view.authKey ?? '');
  for (const key of check.proxyKeys) {
    const places = { en: key.places.map((p) => p.en).join(', '), zh: key.places.map((p) => p.zh).join('、') };
    if (isAuthKey(key)) {
      add(authRange, DiagnosticSeverity.Information, DaemonDiagnosticCodes.reusedProxyKey, {
        en: `AUTH_KEY is also stored as a proxy key (${places.en}; GPT-Load copies it there on first start): any client given that proxy key can also log into the admin UI. Give clients their own proxy keys and remove this one from the proxy keys.`,
        zh: `AUTH_KEY 同时被存为代理密钥（${places.zh}；GPT-Load 首次启动时会复制过去）：拿到该代理密钥的客户端也能登录管理界面。请为客户端单独设置代理密钥，并从代理密钥中删除它。`,
      }, { fix: 'remove-proxy-key' });
    } else if (key.reused) {
      add(authRange, DiagnosticSeverity.Information, DaemonDiagnosticCodes.reusedProxyKey, {
        en: `The proxy key ${key.masked} is reused in ${key.places.length} places (${places.en}): revoking it for one group revokes it for none of the others.`,
        zh: `代理密钥 ${key.masked} 在 ${key.places.length} 处重复使用（${places.zh}）：为一个分组撤销它，并不会对其他分组生效。`,
      });
    }
  }
  return out;
}
