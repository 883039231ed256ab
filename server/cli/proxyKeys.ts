/**
 * `proxy-keys list` and `proxy-keys remove`: GPT-Load's stored proxy keys (the global list and each
 * group's), masked, judged as its dashboard judges them; one removed everywhere after an AUTH_KEY
 * rotation. The key to remove comes on stdin (or a prompt without echo), never from argv.
 */
import { KeystoreError, localize, type Lang } from '../core/errors';
import { findProxyKeyUses, isUsed, listProxyKeys, removeProxyKey, type ProxyKeySummary, type ProxyKeyUses } from '../keystore/proxyKeys';
import type { CliCommand, CliIO } from './command';
import { readValues } from './keys';
import { promptHidden } from './keyInput';
import { DEPLOYMENT_HELP, DEPLOYMENT_OPTIONS, flag, withStore, writeJson } from './options';
import { printableLines } from '../../shared/printable';

function t(lang: Lang, en: string, zh: string): string {
  return lang === 'zh-CN' ? zh : en;
}

/** "the global proxy keys; groups openai, claude" */
function describeUses(uses: ProxyKeyUses, lang: Lang): string {
  const parts: string[] = [];
  if (uses.settings > 0) parts.push(t(lang, 'the global proxy keys', '全局代理密钥') + (uses.settings > 1 ? ` (×${uses.settings})` : ''));
  if (uses.groups.length > 0) parts.push(t(lang, 'groups ', '分组 ') + uses.groups.map((g) => g.name).join(t(lang, ', ', '、')));
  return parts.join(t(lang, '; ', '；'));
}

// ---------------------------------------------------------------------------------------------
// list

function flagsOf(key: ProxyKeySummary, lang: Lang, envPath: string): string[] {
  const flags: string[] = [];
  if (key.isAuthKey) {
    flags.push(
      t(
        lang,
        `it is AUTH_KEY of ${envPath}: whoever holds this proxy key can also log into the admin UI — give clients their own keys and remove this one (proxy-keys remove)`,
        `它就是 ${envPath} 中的 AUTH_KEY：持有该代理密钥的人也能登录管理界面——请为客户端分配单独的密钥，并删除此密钥（proxy-keys remove）`,
      ),
    );
  }
  if (key.reused) {
    flags.push(t(lang, 'stored in more than one place: revoking it in one leaves it valid in the others', '存放在多处：只在一处撤销，其他位置仍然有效'));
  }
  for (const w of key.warnings) flags.push(`${w.severity}: ${localize(w.text, lang)}`);
  return flags;
}

export const proxyKeysListCommand: CliCommand = {
  name: 'proxy-keys list',
  summary: "GPT-Load's stored proxy keys, masked: where each is used, weak ones, AUTH_KEY reuse",
  help: `Usage: gpt-load-keystore proxy-keys list [--json] [--env FILE]

Lists every distinct proxy key GPT-Load has stored — the global list (system_settings.proxy_keys,
where GPT-Load copied AUTH_KEY on its first start) and each group's list (groups.proxy_keys) —
split and trimmed exactly as GPT-Load reads them, and for each:
  - where it is used: the global list, which groups;
  - GPT-Load's own dashboard warnings: too short (< 16 bytes high, < 32 medium), a weak pattern
    (key, test, admin, 123456, …), low complexity;
  - whether it is AUTH_KEY of the .env: whoever holds that proxy key can also log into the
    admin UI;
  - whether it is stored in more than one place: revoking it in one leaves it valid elsewhere.
Keys are shown masked (first/last characters and length from 16 characters on), never whole.

Options:
  --json                machine-readable ({keys: [{masked, length, settings, groups, isAuthKey,
                        reused, warnings}]}); settings = entries in the global list
${DEPLOYMENT_HELP}

Exit codes: 0 nothing to warn about, 1 some key has a warning, is AUTH_KEY or is reused,
3 .env unreadable, 7 cannot connect, 8 not a GPT-Load database.

Examples:
  gpt-load-keystore proxy-keys list
  gpt-load-keystore proxy-keys list --env /srv/gpt-load/.env --db-host 127.0.0.1:3306 --json`,
  options: { ...DEPLOYMENT_OPTIONS, json: { type: 'boolean' } },
  async run(args, io) {
    const { keys, envPath } = await withStore(args, io, async (store, deployment) => ({
      keys: await listProxyKeys(store, { authKey: deployment.env.get('AUTH_KEY') ?? '' }),
      envPath: deployment.envPath,
    }));
    const flagged = keys.filter((k) => k.isAuthKey || k.reused || k.warnings.length > 0).length;
    if (flag(args, 'json')) {
      writeJson(io, {
        keys: keys.map((k) => ({
          masked: k.masked,
          length: k.length,
          settings: k.uses.settings,
          groups: k.uses.groups,
          isAuthKey: k.isAuthKey,
          reused: k.reused,
          warnings: k.warnings.map((w) => ({ code: w.code, severity: w.severity, message: localize(w.text, io.lang) })),
        })),
      });
    } else {
      keys.forEach((k, i) => {
        io.stdout.write(printableLines([`#${i + 1}  ${k.masked}  ${describeUses(k.uses, io.lang)}`, ...flagsOf(k, io.lang, envPath).map((line) => `    ! ${line}`)]));
      });
      io.stdout.write(
        t(io.lang, `-- ${keys.length} proxy key(s), ${flagged} with findings\n`, `-- 共 ${keys.length} 个代理密钥，其中 ${flagged} 个有问题\n`),
      );
    }
    return flagged > 0 ? 1 : 0;
  },
};

// ---------------------------------------------------------------------------------------------
// remove

/** The one key to remove: typed without echo on a terminal, else the single non-blank line of stdin. */
async function readKey(io: CliIO): Promise<string> {
  if (io.stdin.isTTY) return promptHidden(io, { en: 'proxy key to remove: ', zh: '要删除的代理密钥：' });
  const values = await readValues(io);
  if (values.length !== 1) {
    throw new KeystoreError(
      'usage',
      values.length === 0
        ? { en: 'no proxy key on stdin (one line: the key)', zh: '标准输入中没有代理密钥（一行：密钥本身）' }
        : { en: `stdin has ${values.length} non-blank lines: give exactly one proxy key per run`, zh: `标准输入有 ${values.length} 个非空行：每次只能给出一个代理密钥` },
    );
  }
  return values[0].value;
}

function notFound(lang: Lang, io: CliIO): number {
  io.stderr.write(t(lang, 'no stored proxy key has this value; nothing changed\n', '没有与该值相同的已存代理密钥；未做任何修改\n'));
  return 1;
}

export const proxyKeysRemoveCommand: CliCommand = {
  name: 'proxy-keys remove',
  summary: 'remove one proxy key (read from stdin) from the global and every group list',
  help: `Usage: gpt-load-keystore proxy-keys remove [--dry-run] [--json] [--env FILE] < key.txt

Removes one proxy key from GPT-Load's stored proxy keys — the global list
(system_settings.proxy_keys) and every group's list (groups.proxy_keys) — in one transaction;
the other keys stay as written, in their order. Use it after rotating AUTH_KEY: GPT-Load copied
AUTH_KEY into the global proxy keys on its first start, so the old AUTH_KEY keeps working as a
proxy key until it is removed there too.

The key is read from stdin — one line, or typed without echo when stdin is a terminal — never
from the command line, where shell history and \`ps\` would keep it. It matches as GPT-Load
matches: surrounding whitespace trimmed, otherwise exact. Output shows it masked only.

GPT-Load reads proxy keys when it starts and keeps them in memory, so restart every GPT-Load
instance on this database afterwards; the output says whether it looks running (GET /health on
HOST:PORT of the .env, other database sessions) and how to restart it. The change is not refused
while it runs: until the restart it simply still accepts the old key.

Options:
  --dry-run             only show where the key is stored; change nothing
  --json                machine-readable result (masked; no key)
${DEPLOYMENT_HELP}

Exit codes: 0 removed (with --dry-run: found), 1 no stored proxy key has this value, 2 no key,
more than one line on stdin, or a key with a comma, 3 .env unreadable, 7 cannot connect,
8 not a GPT-Load database.

Examples:
  gpt-load-keystore proxy-keys remove --dry-run < old-auth-key.txt
  gpt-load-keystore proxy-keys remove < old-auth-key.txt && docker compose restart gpt-load
  gpt-load-keystore proxy-keys remove --env /srv/gpt-load/.env      (asks for the key)`,
  options: { ...DEPLOYMENT_OPTIONS, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } },
  async run(args, io) {
    const value = await readKey(io);
    const json = flag(args, 'json');
    if (flag(args, 'dry-run')) {
      const uses = await withStore(args, io, (store) => findProxyKeyUses(store, value));
      if (json) writeJson(io, { dryRun: true, ...uses });
      else if (isUsed(uses)) {
        io.stdout.write(printableLines([t(io.lang, `Stored in: ${describeUses(uses, io.lang)}. Nothing changed (dry run).`, `存放于：${describeUses(uses, io.lang)}。未做任何修改（演练）。`)]));
      }
      return isUsed(uses) ? 0 : notFound(io.lang, io);
    }
    const removal = await withStore(args, io, (store, deployment) => removeProxyKey(store, { value, deployment }, { cancellation: io.cancellation }));
    const notes = removal.notes.map((n) => localize(n, io.lang));
    if (json) {
      writeJson(io, {
        settings: removal.settings,
        groups: removal.groups,
        globalEmptied: removal.globalEmptied,
        running: removal.service.running,
        restartRequired: removal.restartRequired,
        restartCommand: removal.restart.command,
        notes,
      });
    } else if (removal.restartRequired) {
      io.stdout.write(printableLines([t(io.lang, `Removed from ${describeUses(removal, io.lang)}.`, `已从${describeUses(removal, io.lang)}中删除。`), ...notes]));
    }
    return removal.restartRequired ? 0 : notFound(io.lang, io);
  },
};
