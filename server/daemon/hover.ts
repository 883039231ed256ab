/**
 * Hover on AUTH_KEY, ENCRYPTION_KEY and DATABASE_DSN in a `.env`: length and strength as GPT-Load
 * judges them, what GPT-Load will read (masked), and for ENCRYPTION_KEY the encryption state of the
 * database (from the background check). Never the secret itself.
 */
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { MarkupKind, type Hover, type HoverParams, type TextDocuments } from 'vscode-languageserver/node';
import { localize, type Lang, type Localized } from '../core/errors';
import { maskSecret } from '../core/secrets';
import { describeTarget } from '../store/dsn';
import { overlaps } from './compose';
import type { DatabaseChecks, DbCheck } from './dbcheck';
import { documentKind } from './diagnostics';
import { envView, type EnvView } from './envView';
import { strengthOf } from './secrets';
import type { Session } from './session';

const n = (value: number) => value.toLocaleString('en-US');

export function provideHover(params: HoverParams, session: Session, documents: TextDocuments<TextDocument>, checks: DatabaseChecks): Hover | null {
  const document = documents.get(params.textDocument.uri);
  if (!document || documentKind(document) !== 'dotenv') return null;
  const view = envView(document);
  const at = { start: params.position, end: params.position };
  const entry = view.doc.entries.find((e) => overlaps(e.range, at));
  if (!entry || !['AUTH_KEY', 'ENCRYPTION_KEY', 'DATABASE_DSN'].includes(entry.key)) return null;
  const lang = session.lang;
  const t = (text: Localized) => localize(text, lang);
  const lines: string[] = [`**${entry.key}**`];
  const effective = view.last.get(entry.key) === entry;
  if (!effective) {
    lines.push(t({ en: `_This assignment has no effect: a later ${entry.key} on line ${view.last.get(entry.key)!.range.start.line + 1} wins._`, zh: `_此赋值不生效：第 ${view.last.get(entry.key)!.range.start.line + 1} 行的 ${entry.key} 会覆盖它。_` }));
  }
  if (view.doc.error) {
    lines.push(t({ en: '_godotenv refuses this file, so GPT-Load reads none of it._', zh: '_godotenv 拒绝解析此文件，GPT-Load 不会读取其中任何内容。_' }));
  }

  if (entry.key === 'DATABASE_DSN') {
    const target = view.target ? describeTarget(view.target) : null;
    lines.push(target ? t({ en: `GPT-Load connects to: \`${target}\``, zh: `GPT-Load 连接到：\`${target}\`` }) : view.targetError ? view.targetError.localized(lang) : '');
    return { contents: { kind: MarkupKind.Markdown, value: lines.filter(Boolean).join('\n\n') }, range: entry.range };
  }

  const strength = strengthOf(entry.value, entry.key, lang);
  const verdict = strength.message
    ? `${strength.risk === 'high' ? '⚠ ' : ''}${t({ en: "GPT-Load's dashboard", zh: 'GPT-Load 仪表盘' })}: ${strength.message}`
    : t({ en: "GPT-Load's dashboard: no warning", zh: 'GPT-Load 仪表盘：无警告' });
  lines.push(t({ en: `Length: ${strength.length} bytes`, zh: `长度：${strength.length} 字节` }) + ' · ' + verdict);
  const read = entry.value === '' ? t({ en: '(empty)', zh: '（空）' }) : `\`${maskSecret(entry.value)}\``;
  lines.push(t({ en: `GPT-Load reads: ${read}`, zh: `GPT-Load 读到：${read}` }) + (entry.expanded ? t({ en: ' (after godotenv expanded `$`)', zh: '（godotenv 展开 `$` 之后）' }) : ''));
  lines.push(t({ en: '_A variable of the same name in GPT-Load’s process environment would win over this file._', zh: '_GPT-Load 进程环境中的同名变量优先于此文件。_' }));
  if (entry.key === 'ENCRYPTION_KEY' && effective) lines.push(encryptionState(view, checks, session, lang));
  if (entry.key === 'AUTH_KEY') {
    lines.push(t({ en: 'The admin UI logs in with it. GPT-Load copies it into the global proxy keys on first start: rotating it here does not revoke that copy.', zh: '管理界面用它登录。GPT-Load 首次启动时会把它复制到全局代理密钥：在此处更换它并不会撤销那份副本。' }));
  }
  return { contents: { kind: MarkupKind.Markdown, value: lines.join('\n\n') }, range: entry.range };
}

function encryptionState(view: EnvView, checks: DatabaseChecks, session: Session, lang: Lang): string {
  const t = (text: Localized) => localize(text, lang);
  if (!session.checksDatabase || view.target === null) return t({ en: 'Encryption state: not checked', zh: '加密状态：未检查' });
  const check: DbCheck | undefined = checks.peek(view.target, view.encryptionKey);
  if (!check) return t({ en: 'Encryption state: checking the database…', zh: '加密状态：正在检查数据库…' });
  if (!check.ok) return t({ en: `Encryption state: unknown — ${check.error.text.en}`, zh: `加密状态：未知——${check.error.text.zh}` });
  const scope =
    check.examined >= check.totalKeys
      ? t({ en: `all ${n(check.totalKeys)} stored keys`, zh: `全部 ${n(check.totalKeys)} 个已存储的密钥` })
      : t({ en: `the first ${n(check.examined)} of ${n(check.totalKeys)} stored keys`, zh: `${n(check.totalKeys)} 个已存储密钥中的前 ${n(check.examined)} 个` });
  const key = check.encryptionEnabled ? t({ en: `fingerprint ${check.fingerprint}`, zh: `指纹 ${check.fingerprint}` }) : t({ en: 'encryption disabled', zh: '未启用加密' });
  return t({
    en: `Encryption state (${key}) — of ${scope}: ${n(check.encrypted)} decrypt with this key, ${n(check.plaintext)} plaintext, ${n(check.unknown)} undecryptable → **${check.state}**`,
    zh: `加密状态（${key}）——${scope}中：${n(check.encrypted)} 个可用此密钥解密，${n(check.plaintext)} 个为明文，${n(check.unknown)} 个无法解密 → **${check.state}**`,
  });
}
