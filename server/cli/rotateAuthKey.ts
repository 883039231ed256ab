import { KeystoreError, localize } from '../core/errors';
import { DEFAULT_SECRET_LENGTH, generateSecret } from '../core/secrets';
import { openStore, type Store } from '../store/connect';
import { planAuthKeyRotation, rotateAuthKey, type AuthKeyRotationPlan } from '../keystore/audit/rotateAuthKey';
import type { CliCommand, CliIO, ParsedArgs } from './command';
import { askYes, keyFromEnvVar, keyFromFile, promptHidden } from './keyInput';
import { DEPLOYMENT_HELP, DEPLOYMENT_OPTIONS, deploymentOf, flag, positiveInt, str, writeJson } from './options';

async function newKeyFrom(args: ParsedArgs, io: CliIO): Promise<string> {
  const sources = ['new-key-env', 'new-key-file', 'prompt'].filter((name) => args.values[name] !== undefined);
  if (sources.length > 1) throw new KeystoreError('usage', { en: `give the new key one way: ${sources.map((s) => `--${s}`).join(' or ')}`, zh: `只能用一种方式给出新密钥：${sources.map((s) => `--${s}`).join(' 或 ')}` });
  const env = str(args, 'new-key-env');
  if (env !== undefined) return keyFromEnvVar(io, '--new-key-env', env);
  const file = str(args, 'new-key-file');
  if (file !== undefined) return keyFromFile(io, '--new-key-file', file);
  if (flag(args, 'prompt')) return promptHidden(io, { en: 'new AUTH_KEY: ', zh: '新的 AUTH_KEY：' });
  return generateSecret(positiveInt(args, 'length', DEFAULT_SECRET_LENGTH, 16));
}

function describePlan(plan: AuthKeyRotationPlan, io: CliIO): string {
  const t = (en: string, zh: string) => localize({ en, zh }, io.lang);
  const uses = plan.oldUses;
  const places = uses ? [...(uses.settings > 0 ? ['system_settings'] : []), ...uses.groups.map((g) => `${t('group', '分组')} ${g.name}`)] : [];
  return [
    t(`AUTH_KEY in ${plan.envPath}: ${plan.oldMasked ?? '(not set)'} → ${plan.newMasked}`, `${plan.envPath} 中的 AUTH_KEY：${plan.oldMasked ?? '（未设置）'} → ${plan.newMasked}`),
    places.length > 0
      ? t(`The old AUTH_KEY is also a proxy key in: ${places.join(', ')}; it will be removed there.`, `旧 AUTH_KEY 同时是以下位置的代理密钥：${places.join('、')}；将从那里删除。`)
      : uses
        ? t('The old AUTH_KEY is not among the stored proxy keys.', '旧 AUTH_KEY 不在已存储的代理密钥中。')
        : t('The stored proxy keys are left alone (--keep-proxy-keys).', '不修改已存储的代理密钥（--keep-proxy-keys）。'),
  ].join('\n');
}

export const rotateAuthKeyCommand: CliCommand = {
  name: 'rotate-auth-key',
  summary: 'replace AUTH_KEY in .env, remove the old one from the stored proxy keys, record the date',
  help: `Usage: gpt-load-keystore rotate-auth-key [--env FILE] [--new-key-env VAR | --new-key-file FILE | --prompt]
                                        [--keep-proxy-keys] [--yes] [--json]

GPT-Load recommends rotating AUTH_KEY every 3–6 months. This writes a new AUTH_KEY into the .env
(generated: ${DEFAULT_SECRET_LENGTH} random characters that pass GPT-Load's checks — or yours, read from an
environment variable, a file or a prompt, never from the command line), removes the old one from
system_settings.proxy_keys and every group's proxy_keys where GPT-Load copied it (one
transaction), records the date beside the .env (.gpt-load-keystore.json: fingerprint and date
only, read by \`audit\` and the VS Code extension), and prints the restart command. Refused when
docker-compose.yml sets AUTH_KEY literally under environment: (it wins over .env).
The new key is never printed: it is in the .env.

Options:
  --new-key-env VAR     take the new key from this environment variable
  --new-key-file FILE   take it from a one-line file
  --prompt              type it (no echo)
  --length N            length of a generated key (default ${DEFAULT_SECRET_LENGTH}, at least 16)
  --keep-proxy-keys     leave the stored proxy keys alone (no database needed)
  --yes                 do not ask for confirmation (needed when stdin is not a terminal)
  --json                machine-readable result (masked)
${DEPLOYMENT_HELP}

Exit codes: 0 rotated, 2 usage or a weak new key, 3 .env unreadable, 5 refused (Compose override
or not confirmed), 7 cannot connect.

Examples:
  gpt-load-keystore rotate-auth-key && docker compose up -d --force-recreate gpt-load
  NEW_AUTH_KEY=… gpt-load-keystore rotate-auth-key --new-key-env NEW_AUTH_KEY --yes`,
  options: {
    ...DEPLOYMENT_OPTIONS,
    'new-key-env': { type: 'string' },
    'new-key-file': { type: 'string' },
    prompt: { type: 'boolean' },
    length: { type: 'string' },
    'keep-proxy-keys': { type: 'boolean' },
    yes: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run(args, io) {
    const deployment = deploymentOf(args, io);
    if (!deployment.env.exists) throw new KeystoreError('env-missing', { en: `${deployment.envPath} does not exist`, zh: `${deployment.envPath} 不存在` });
    const newKey = await newKeyFrom(args, io);
    const keep = flag(args, 'keep-proxy-keys');
    const store: Store | null = keep ? null : await openStore(deployment.target, { timeoutMs: positiveInt(args, 'timeout', 5) * 1000 });
    try {
      const plan = await planAuthKeyRotation(store, deployment, newKey);
      io.stderr.write(describePlan(plan, io) + '\n');
      if (!flag(args, 'yes')) {
        if (io.stdin.isTTY !== true) throw new KeystoreError('refused-by-check', { en: 'not confirmed: pass --yes when stdin is not a terminal', zh: '未确认：标准输入不是终端时请加 --yes' });
        if (!(await askYes(io, localize({ en: 'Rotate? Type yes: ', zh: '确认更换？请输入 yes：' }, io.lang)))) {
          throw new KeystoreError('refused-by-check', { en: 'not confirmed; nothing changed', zh: '未确认；未做任何修改' });
        }
      }
      const result = await rotateAuthKey(store, { deployment, newKey }, { cancellation: io.cancellation });
      const notes = result.notes.map((n) => localize(n, io.lang));
      if (flag(args, 'json')) {
        writeJson(io, { envPath: result.envPath, oldMasked: result.oldMasked, newMasked: result.newMasked, removed: result.removed, restartCommand: result.restart.command, recorded: result.recorded, notes });
      } else {
        const t = (en: string, zh: string) => localize({ en, zh }, io.lang);
        const restart = result.restart.command ?? t('restart GPT-Load', '重启 GPT-Load');
        io.stdout.write(
          [
            t(`AUTH_KEY rotated (${result.newMasked}); the new key is in ${result.envPath}. Restart GPT-Load to use it: ${restart}`, `AUTH_KEY 已更换（${result.newMasked}）；新密钥在 ${result.envPath} 中。重启 GPT-Load 后生效：${restart}`),
            ...notes,
          ].join('\n') + '\n',
        );
      }
      return 0;
    } finally {
      await store?.close();
    }
  },
};
