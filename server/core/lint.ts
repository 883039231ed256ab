/**
 * `.env` checks → findings with stable codes, ranges and messages in English or Chinese. Pure:
 * the caller supplies the text and the result of the git check. Messages and `data` never carry a
 * secret (masked at most); a quick fix re-reads the document for the value it needs.
 *
 * Codes: env-syntax, env-bom, env-not-ignored, auth-key-missing, encryption-key-missing,
 * secret-too-short, secret-short, secret-weak-pattern, secret-low-complexity, secret-placeholder,
 * secret-reused, secret-expands, undefined-variable, duplicate-key, compose-disagrees.
 */
import { literalComposeSecrets, readEnvAsCompose } from './compose';
import { describeEnvParseError, LineIndex, parseDotenv, type DotenvDocument, type EnvEntry, type Range } from './env/read';
import { localize, type Lang, type Localized } from './errors';
import { assessSecret, goLength, maskSecret } from './secrets';

export interface Finding {
  code: string;
  severity: 'error' | 'warning' | 'information';
  message: string;
  range: Range;
  data?: Record<string, unknown>;
}

export interface LintOptions {
  lang: Lang;
  /** result of the git check for this file, computed by the caller (I/O stays out of core) */
  ignoredByGit?: 'tracked' | 'not-ignored' | 'ignored' | 'no-repo';
}

type Severity = Finding['severity'];

/** Secrets GPT-Load itself reads: a wrong value here breaks login, decryption or the database. */
const GPT_LOAD_SECRETS = new Set(['AUTH_KEY', 'ENCRYPTION_KEY', 'DATABASE_DSN', 'REDIS_DSN']);
/** Other names that by convention hold a secret. */
const SECRET_NAME = /(^|_)(KEY|KEYS|PASSWORD|PASSWD|PASS|PWD|SECRET|TOKEN|DSN)$/i;

/** Values copied from GPT-Load's README, .env.example and docker examples, and the usual fillers. */
const PLACEHOLDERS = new Set([
  'sk-123456',
  'your-32-char-secret-key',
  'your-secure-key-here',
  'your-secret-key',
  'your_secret_key',
  'your-current-key',
  'your-proxy-key',
  'your-api-key',
  'changeme',
  'change-me',
  'change_me',
  'changeit',
  'replaceme',
  'replace-me',
  'placeholder',
  'secret',
  'password',
  'xxx',
  'todo',
]);
const PLACEHOLDER_SHAPES = [/^your[-_ ]/i, /^<[^<>]*>$/, /^x{4,}$/i, /sk-prod-\[/i, /32-char-secret-key/i];

function isPlaceholder(value: string): boolean {
  const v = value.trim().toLowerCase();
  return PLACEHOLDERS.has(v) || PLACEHOLDER_SHAPES.some((re) => re.test(value.trim()));
}

function isSecretName(key: string): boolean {
  return GPT_LOAD_SECRETS.has(key) || SECRET_NAME.test(key);
}

const START: Range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };

class Findings {
  readonly list: Finding[] = [];
  constructor(private readonly lang: Lang) {}

  add(code: string, severity: Severity, text: Localized, range: Range, data?: Record<string, unknown>): void {
    const finding: Finding = { code, severity, message: localize(text, this.lang), range };
    if (data !== undefined) finding.data = data;
    this.list.push(finding);
  }
}

const fromGptLoad = (s: 'high' | 'medium'): Severity => (s === 'high' ? 'error' : 'warning');

// ---------------------------------------------------------------------------------------------
// the rules

/** Each key's first and last assignment, found with one map lookup per entry for all the rules. */
class Assignments {
  /** Index (in entries) of each key's first assignment. */
  private readonly first = new Map<string, number>();
  /** `lastOf[f]`: index of the last assignment of the key first assigned at f. */
  private readonly lastOf: number[];
  /** `effective[i]`: entries[i] is its key's last assignment, the one godotenv keeps. */
  readonly effective: boolean[];

  constructor(private readonly entries: readonly EnvEntry[]) {
    this.lastOf = new Array<number>(entries.length).fill(-1);
    const firstOf = entries.map((entry, i) => {
      const known = this.first.get(entry.key);
      if (known === undefined) this.first.set(entry.key, i);
      const f = known ?? i;
      this.lastOf[f] = i;
      return f;
    });
    this.effective = firstOf.map((f, i) => this.lastOf[f] === i);
  }

  last(key: string): EnvEntry | undefined {
    const f = this.first.get(key);
    return f === undefined ? undefined : this.entries[this.lastOf[f]];
  }

  /** `key` is assigned before entries[index]. */
  definedBefore(key: string, index: number): boolean {
    const f = this.first.get(key);
    return f !== undefined && f < index;
  }
}

function syntaxFindings(text: string, doc: DotenvDocument, out: Findings): void {
  if (text.startsWith('\uFEFF')) {
    out.add(
      'env-bom',
      'error',
      {
        en: 'The file starts with a UTF-8 BOM: godotenv refuses it, so GPT-Load ignores this whole .env (Docker Compose accepts it). Save the file as UTF-8 without BOM.',
        zh: '文件以 UTF-8 BOM 开头：godotenv 拒绝解析，GPT-Load 会忽略整个 .env（Docker Compose 则能读取）。请另存为不带 BOM 的 UTF-8。',
      },
      { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } },
      { fix: 'remove-bom' },
    );
    return;
  }
  if (!doc.error) return;
  const where = describeEnvParseError(doc.error);
  const { position } = doc.error;
  out.add(
    'env-syntax',
    'error',
    {
      en: `godotenv cannot parse this file (${where.en}): GPT-Load then ignores the whole .env — every setting, AUTH_KEY included — and says only "Create .env file to support environment variable configuration".`,
      zh: `godotenv 无法解析此文件（${where.zh}）：GPT-Load 会因此忽略整个 .env——所有配置（包括 AUTH_KEY）都不生效，日志中只提示 "Create .env file to support environment variable configuration"。`,
    },
    { start: position, end: { line: position.line, character: position.character + 1 } },
    { kind: doc.error.kind },
  );
}

function gitFindings(options: LintOptions, out: Findings): void {
  if (options.ignoredByGit === 'tracked') {
    out.add(
      'env-not-ignored',
      'error',
      {
        en: 'This .env is tracked by git: its secrets (AUTH_KEY, ENCRYPTION_KEY, database passwords) are in the repository history. Untrack it (git rm --cached), ignore it, and rotate what was committed.',
        zh: '此 .env 已被 git 跟踪：其中的密钥（AUTH_KEY、ENCRYPTION_KEY、数据库密码）已进入仓库历史。请取消跟踪（git rm --cached）并加入忽略列表，同时更换已提交过的密钥。',
      },
      START,
      { fix: 'untrack' },
    );
  } else if (options.ignoredByGit === 'not-ignored') {
    out.add(
      'env-not-ignored',
      'warning',
      {
        en: 'This .env is not ignored by git: one "git add ." would commit its secrets. Add it to .gitignore.',
        zh: '此 .env 未被 git 忽略：一次 "git add ." 就会提交其中的密钥。请将它加入 .gitignore。',
      },
      START,
      { fix: 'gitignore' },
    );
  }
}

function missingFindings(keys: Assignments, out: Findings): void {
  const auth = keys.last('AUTH_KEY');
  if (auth === undefined || auth.value === '') {
    out.add(
      'auth-key-missing',
      'error',
      {
        en: 'AUTH_KEY is not set, system cannot function properly: GPT-Load refuses to start without it (unless the process environment sets it).',
        zh: 'AUTH_KEY未设置，系统无法正常工作：缺少它 GPT-Load 无法启动（除非进程环境变量中已设置）。',
      },
      auth ? auth.range : START,
      { key: 'AUTH_KEY', fix: 'generate' },
    );
  }
  const enc = keys.last('ENCRYPTION_KEY');
  if (enc === undefined || enc.value === '') {
    out.add(
      'encryption-key-missing',
      'error',
      {
        en: 'ENCRYPTION_KEY is not set, sensitive data will be stored in plain text. Enable it with a key migration: setting it alone makes the stored keys unreadable (failed-to-decrypt).',
        zh: '未设置ENCRYPTION_KEY，敏感数据将明文存储。请通过密钥迁移启用：仅设置该变量会导致已存储的密钥无法读取（failed-to-decrypt）。',
      },
      enc ? enc.range : START,
      { key: 'ENCRYPTION_KEY', fix: 'migrate-keys' },
    );
  }
}

const fixFor = (key: string): string => (key === 'AUTH_KEY' ? 'generate' : key === 'ENCRYPTION_KEY' ? 'migrate-keys' : 'edit');

function strengthFindings(keys: Assignments, out: Findings): void {
  for (const name of ['AUTH_KEY', 'ENCRYPTION_KEY'] as const) {
    const entry = keys.last(name);
    if (entry === undefined || entry.value === '' || isPlaceholder(entry.value)) continue;
    for (const w of assessSecret(entry.value, name)) {
      const data: Record<string, unknown> = { key: name, fix: fixFor(name) };
      if (w.pattern !== undefined) data.pattern = w.pattern;
      if (w.length !== undefined) data.length = w.length;
      out.add(w.code, fromGptLoad(w.severity), w.text, entry.valueRange, data);
    }
  }
  const auth = keys.last('AUTH_KEY');
  const enc = keys.last('ENCRYPTION_KEY');
  if (auth && enc && auth.value !== '' && auth.value === enc.value) {
    out.add(
      'secret-reused',
      'error',
      {
        en: 'AUTH_KEY and ENCRYPTION_KEY are the same: GPT-Load copies AUTH_KEY into the proxy keys it hands to clients (and logs it on first start). Generate a new AUTH_KEY; if GPT-Load already ran like this, rotate ENCRYPTION_KEY too (migrate-keys).',
        zh: 'AUTH_KEY 与 ENCRYPTION_KEY 相同：GPT-Load 会把 AUTH_KEY 复制为分发给客户端的代理密钥（首次启动时还会写入日志）。请重新生成 AUTH_KEY；如果 GPT-Load 已经这样运行过，也请通过 migrate-keys 更换 ENCRYPTION_KEY。',
      },
      auth.valueRange,
      { key: 'AUTH_KEY', fix: 'generate' },
    );
  }
}

/** Placeholder and `$` findings for one effective entry, entries[index]; true when secret-expands was reported (Compose's reading then adds nothing). */
function valueFindings(entry: EnvEntry, index: number, keys: Assignments, out: Findings): boolean {
  const { key } = entry;
  const secret = isSecretName(key);
  const own = GPT_LOAD_SECRETS.has(key);
  if (secret && entry.value !== '' && isPlaceholder(entry.value)) {
    out.add(
      'secret-placeholder',
      own ? 'error' : 'warning',
      {
        en: `${key} still holds a placeholder from the documentation (${maskSecret(entry.value)}): anyone who read the same docs knows it. Replace it with a random secret.`,
        zh: `${key} 仍是文档中的示例值（${maskSecret(entry.value)}）：读过同一文档的人都知道它。请换成随机生成的密钥。`,
      },
      entry.valueRange,
      { key, fix: fixFor(key) },
    );
  }
  // `\$` alone (no lookup) is godotenv's own escape for a literal "$": the writer meant it.
  if (!entry.expanded || entry.references.length === 0) return false;
  const undefinedRefs = entry.references.filter((r) => !keys.definedBefore(r, index));
  const deliberate = undefinedRefs.length === 0;
  if (secret) {
    const refs = entry.references.map((r) => '$' + r).join(', ');
    const read = `${maskSecret(entry.value)}, ${goLength(entry.value)} bytes`;
    out.add(
      'secret-expands',
      deliberate ? 'information' : own ? 'error' : 'warning',
      deliberate
        ? {
            en: `${key} takes its value from ${refs} (godotenv expands it): GPT-Load reads ${read}.`,
            zh: `${key} 的值取自 ${refs}（godotenv 会展开）：GPT-Load 读到的是 ${read}。`,
          }
        : {
            en: `godotenv expands "$" in ${key}: GPT-Load reads ${read}, not the text as written. Put the value in single quotes to keep it literal.`,
            zh: `godotenv 会展开 ${key} 中的 "$"：GPT-Load 读到的是 ${read}，而不是所写的文本。请用单引号括起该值以保持原样。`,
          },
      entry.valueRange,
      deliberate ? { key } : { key, fix: 'quote' },
    );
    return true;
  }
  if (undefinedRefs.length > 0) {
    const name = undefinedRefs[0];
    out.add(
      'undefined-variable',
      'warning',
      {
        en: `${key}: $${name} is not set earlier in this file, so godotenv reads it as empty (godotenv v1.5.1 never looks at the process environment). Define it above, or single-quote the value to keep "$" literal.`,
        zh: `${key}：$${name} 未在此文件前面定义，godotenv 会把它读成空值（godotenv v1.5.1 从不读取进程环境变量）。请在前面定义它，或用单引号保持 "$" 原样。`,
      },
      entry.valueRange,
      { key, variable: name, fix: 'quote' },
    );
  }
  return false;
}

function duplicateFindings(doc: DotenvDocument, keys: Assignments, out: Findings): void {
  doc.entries.forEach((e, i) => {
    if (keys.effective[i]) return;
    const winner = keys.last(e.key)!;
    const line = winner.range.start.line + 1;
    out.add(
      'duplicate-key',
      'warning',
      {
        en: `${e.key} is assigned again on line ${line}; godotenv keeps the last assignment, so this one has no effect.`,
        zh: `${e.key} 在第 ${line} 行再次赋值；godotenv 以最后一次赋值为准，此处的赋值无效。`,
      },
      e.range,
      { key: e.key, winnerLine: winner.range.start.line, fix: 'remove-duplicate' },
    );
  });
}

/** `skip[i]`: entries[i] has a finding that says more already. */
function composeFindings(text: string, doc: DotenvDocument, keys: Assignments, skip: readonly boolean[], out: Findings): void {
  readEnvAsCompose(text, undefined, doc).forEach(({ entry, read }, i) => {
    if (read === undefined || !keys.effective[i] || skip[i]) return;
    if ('error' in read) {
      out.add(
        'compose-disagrees',
        'warning',
        {
          en: `Docker Compose (env_file) cannot read ${entry.key} (${read.error}); GPT-Load's godotenv can. In a Compose deployment the container gets Compose's reading.`,
          zh: `Docker Compose（env_file）无法读取 ${entry.key}（${read.error}），而 GPT-Load 的 godotenv 可以。Compose 部署时容器拿到的是 Compose 的解析结果。`,
        },
        entry.range,
        { key: entry.key },
      );
    } else if (read.value !== entry.value) {
      out.add(
        'compose-disagrees',
        'warning',
        {
          en: `Docker Compose (env_file) reads ${entry.key} as ${maskSecret(read.value)}, GPT-Load's godotenv as ${maskSecret(entry.value)} (inline comments, backslashes and "$" follow different rules). In a Compose deployment the container gets Compose's value; quoting the value makes both agree.`,
          zh: `Docker Compose（env_file）读到的 ${entry.key} 是 ${maskSecret(read.value)}，GPT-Load 的 godotenv 读到的是 ${maskSecret(entry.value)}（两者对行内注释、反斜杠和 "$" 的规则不同）。Compose 部署时容器拿到的是 Compose 的值；给值加上引号可使两者一致。`,
        },
        entry.valueRange,
        { key: entry.key, fix: 'quote' },
      );
    }
  });
}

function compareRanges(a: Finding, b: Finding): number {
  return a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character;
}

/** Every finding for one `.env`, in document order. `doc` is `parseDotenv(text)`, for a caller that has it already. */
export function lintEnv(text: string, options: LintOptions, doc: DotenvDocument = parseDotenv(text)): Finding[] {
  const out = new Findings(options.lang);
  gitFindings(options, out);
  syntaxFindings(text, doc, out);
  if (!text.startsWith('\uFEFF')) {
    const keys = new Assignments(doc.entries);
    // On a refused file GPT-Load sees nothing; the message of env-syntax says so, and the values
    // before the error are still worth checking.
    if (!doc.error) missingFindings(keys, out);
    strengthFindings(keys, out);
    const reported = doc.entries.map((entry, i) => keys.effective[i] && valueFindings(entry, i, keys, out));
    duplicateFindings(doc, keys, out);
    composeFindings(text, doc, keys, reported, out);
  }
  return out.list.sort(compareRanges);
}

/** Findings for one Compose file (`file`: its name, for messages). */
export function lintCompose(text: string, file: string, lang: Lang): Finding[] {
  const lines = new LineIndex(text);
  return literalComposeSecrets(text).map((s) => ({
    code: 'compose-literal-secret',
    severity: 'warning',
    message: localize(
      {
        en: `${s.name} is written literally in ${file} (service ${s.service}): whoever reads this file or its Git history has it. Move it to .env and reference it as \${${s.name}}.`,
        zh: `${s.name} 以明文写在 ${file} 中（服务 ${s.service}）：任何能读到此文件或其 Git 历史的人都能拿到它。请移到 .env，并以 \${${s.name}} 引用。`,
      },
      lang,
    ),
    range: { start: lines.positionAt(s.span[0]), end: lines.positionAt(s.span[1]) },
    data: { name: s.name },
  }));
}
