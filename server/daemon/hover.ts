/**
 * Hover on AUTH_KEY, ENCRYPTION_KEY and DATABASE_DSN in a `.env`, one short paragraph: what GPT-Load
 * reads (masked) and its length, GPT-Load's dashboard verdict, for ENCRYPTION_KEY the background
 * check's verdict on the stored keys when it has one, and a link to the docs. Never the secret itself.
 */
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { MarkupKind, type Hover, type HoverParams, type TextDocuments } from 'vscode-languageserver/node';
import { formatNumber } from '../../shared/format';
import { localize, type Lang, type Localized } from '../core/errors';
import { maskSecret } from '../core/secrets';
import { describeTarget } from '../store/dsn';
import { overlaps } from './compose';
import type { DatabaseChecks, DbCheck } from './dbcheck';
import { documentKind } from './diagnostics';
import { envView, type EnvView } from './envView';
import { strengthOf } from './secrets';
import type { Session } from './session';

const n = (value: number) => formatNumber(value);

export function provideHover(params: HoverParams, session: Session, documents: TextDocuments<TextDocument>, checks: DatabaseChecks): Hover | null {
  const document = documents.get(params.textDocument.uri);
  if (!document || documentKind(document) !== 'dotenv') return null;
  const view = envView(document);
  const at = { start: params.position, end: params.position };
  const entry = view.doc.entries.find((e) => overlaps(e.range, at));
  if (!entry || !['AUTH_KEY', 'ENCRYPTION_KEY', 'DATABASE_DSN'].includes(entry.key)) return null;
  const lang = session.lang;
  const t = (text: Localized) => localize(text, lang);
  // One short paragraph: what GPT-Load reads, the verdict, one link. The Problems panel has the details.
  const sentences: string[] = [];
  const effective = view.last.get(entry.key) === entry;
  if (view.doc.error) {
    sentences.push(t({ en: 'godotenv refuses this file, so GPT-Load reads none of it.', zh: 'godotenv 拒绝解析此文件，GPT-Load 不会读取其中任何内容。' }));
  } else if (!effective) {
    const line = view.last.get(entry.key)!.range.start.line + 1;
    sentences.push(t({ en: `No effect: ${entry.key} on line ${line} overrides it.`, zh: `不生效：第 ${line} 行的 ${entry.key} 会覆盖它。` }));
  } else if (entry.key === 'DATABASE_DSN') {
    const target = view.target ? describeTarget(view.target) : null;
    sentences.push(target ? t({ en: `GPT-Load connects to \`${target}\`.`, zh: `GPT-Load 连接到 \`${target}\`。` }) : (view.targetError?.localized(lang) ?? ''));
  } else {
    const strength = strengthOf(entry.value, entry.key, lang);
    const read = entry.value === '' ? t({ en: 'nothing', zh: '空值' }) : `\`${maskSecret(entry.value)}\``;
    const expanded = entry.expanded ? t({ en: ' after expanding `$`', zh: '（展开 `$` 之后）' }) : '';
    sentences.push(t({ en: `GPT-Load reads ${read}${expanded}, ${n(strength.length)} bytes.`, zh: `GPT-Load 读到 ${read}${expanded}，${n(strength.length)} 字节。` }));
    sentences.push(
      strength.message
        ? t({ en: `${strength.risk === 'high' ? '⚠ ' : ''}Dashboard: ${strength.message}.`, zh: `${strength.risk === 'high' ? '⚠ ' : ''}仪表盘：${strength.message}。` })
        : t({ en: 'Dashboard: no warning.', zh: '仪表盘：无警告。' }),
    );
    if (entry.key === 'ENCRYPTION_KEY') sentences.push(encryptionState(view, checks, session, lang));
  }
  const href = session.docsLink('diagnostic-codes');
  const link = href ? ` [${t({ en: 'Checks explained', zh: '检查说明' })}](${href})` : '';
  return { contents: { kind: MarkupKind.Markdown, value: `**${entry.key}** — ${sentences.filter(Boolean).join(' ')}${link}` }, range: entry.range };
}

/** The background check's verdict in one sentence; nothing while it runs or when it failed (the diagnostics say so). */
function encryptionState(view: EnvView, checks: DatabaseChecks, session: Session, lang: Lang): string {
  if (!session.checksDatabase || view.target === null) return '';
  const check: DbCheck | undefined = checks.peek(view.target, view.encryptionKey);
  if (!check?.ok) return '';
  const of = check.examined >= check.totalKeys ? n(check.totalKeys) : `${n(check.examined)}/${n(check.totalKeys)}`;
  return localize(
    {
      en: `Stored keys (${of}): ${n(check.encrypted)} decrypt with it, ${n(check.plaintext)} plaintext, ${n(check.unknown)} undecryptable → **${check.state}**.`,
      zh: `已存储的密钥（${of}）：${n(check.encrypted)} 个可用它解密，${n(check.plaintext)} 个为明文，${n(check.unknown)} 个无法解密 → **${check.state}**。`,
    },
    lang,
  );
}
