/**
 * Before a `.env` change (ENCRYPTION_KEY after migrate-keys, AUTH_KEY rotation): will GPT-Load's
 * container get the new value after `docker compose up`? Compose's `environment:` overrides
 * `env_file:`, and GPT-Load's godotenv never overrides a variable that is set, so a key written
 * anywhere else than the `.env` we update wins. Also: is the database we migrate the one the
 * container uses? Both refuse ('compose-override', exit 5) naming the file and line to change.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { resolveComposeDeployment, type ComposeDeployment, type EffectiveVariable } from '../core/compose';
import { KeystoreError, type Localized } from '../core/errors';
import { describeTarget, resolveDsn, type DatabaseTarget } from '../store/dsn';
import type { Deployment } from './deployment';
import { envTextAfter } from '../core/env/write';

type ComposeDeploymentRef = Pick<Deployment, 'envPath' | 'envDir' | 'processEnv' | 'composeFiles'>;

/** The Compose deployment beside the `.env` (or `--compose`), as `docker compose up` in that folder sees it; null without one. */
export function composeOf(deployment: ComposeDeploymentRef, texts?: Record<string, string | null>): ComposeDeployment | null {
  return resolveComposeDeployment(deployment.envDir, { composeFiles: deployment.composeFiles, processEnv: deployment.processEnv, texts });
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function where(compose: ComposeDeployment, file: string, line: number): string {
  const rel = relative(compose.projectDir, file);
  return `${rel.startsWith('..') ? file : rel}:${line}`;
}

function refusal(text: Localized, details: Record<string, unknown>): KeystoreError {
  return new KeystoreError(
    'compose-override',
    { en: `${text.en} Nothing was written.`, zh: `${text.zh}未写入任何内容。` },
    details,
  );
}

/** Why the container would not get `expected` for `name`, and what to change; null when it would. */
function explain(compose: ComposeDeployment, envPath: string, name: string, effective: EffectiveVariable, expected: string | null): Localized | null {
  const got = effective.value ?? null;
  if (!effective.error && (expected === null ? got === null || got === '' : got === expected)) return null;
  const service = compose.service!.name;
  const at = effective.source ? where(compose, effective.source.file, effective.source.line) : '';
  const up = 'docker compose up';
  if (effective.error) {
    return {
      en: `Docker Compose cannot set ${name} for GPT-Load's container (service ${service}, ${at}): ${effective.error.en}. Fix that first.`,
      zh: `Docker Compose 无法为 GPT-Load 的容器设置 ${name}（服务 ${service}，${at}）：${effective.error.zh}。请先修复。`,
    };
  }
  const source = effective.source;
  if (source === null) {
    return {
      en: `after ${up}, GPT-Load's container (service ${service}) gets no ${name} from Docker Compose: neither env_file: nor environment: passes ${envPath} to it. Add "env_file: .env" (or "${name}: \${${name}}" under environment:) to service ${service} in ${where(compose, compose.service!.file, compose.service!.line)}, then rerun.`,
      zh: `${up} 之后，GPT-Load 的容器（服务 ${service}）不会从 Docker Compose 得到 ${name}：env_file: 与 environment: 都没有把 ${envPath} 传给它。请在 ${where(compose, compose.service!.file, compose.service!.line)} 的服务 ${service} 中加入 "env_file: .env"（或在 environment: 下加入 "${name}: \${${name}}"），然后重新运行。`,
    };
  }
  if (source.kind === 'environment') {
    const fromShell = effective.references.filter((r) => r.from === 'process').map((r) => r.name);
    if (fromShell.length > 0) {
      return {
        en: `${at} sets ${name} for GPT-Load's container from ${fromShell.join(', ')}, which is set in this shell's environment — Compose prefers it to .env, so ${up} from this shell would keep the old value. Unset ${fromShell.join(', ')} (e.g. "unset ${fromShell.join(' ')}"), then rerun.`,
        zh: `${at} 用 ${fromShell.join('、')} 为 GPT-Load 的容器设置 ${name}，而当前 shell 的环境中设置了 ${fromShell.join('、')} — Compose 优先使用它而不是 .env，因此在此 shell 中执行 ${up} 仍会得到旧值。请先取消设置（如 "unset ${fromShell.join(' ')}"），然后重新运行。`,
      };
    }
    if (effective.references.length === 0) {
      return {
        en: `${at} sets ${name} literally under environment: of service ${service}; it overrides env_file:, so after ${up} GPT-Load would still get that value, not the one written to ${envPath}. Change that line to reference .env ("${name}: \${${name}}" or "- ${name}=\${${name}}") or remove it, then rerun.`,
        zh: `${at} 在服务 ${service} 的 environment: 下直接写了 ${name}；它会覆盖 env_file:，因此 ${up} 之后 GPT-Load 拿到的仍是该值，而不是写入 ${envPath} 的值。请把该行改为引用 .env（"${name}: \${${name}}" 或 "- ${name}=\${${name}}"）或删除它，然后重新运行。`,
      };
    }
    const refs = effective.references.map((r) => r.name).join(', ');
    return {
      en: `${at} sets ${name} for GPT-Load's container from \${${refs}}, which the change to ${envPath} does not give it (Compose interpolates from the shell and ${compose.projectEnvFile ?? `${compose.projectDir}/.env`}). Make that line "${name}: \${${name}}" with ${envPath} as the project's .env, or run with --env naming the .env Compose reads, then rerun.`,
      zh: `${at} 用 \${${refs}} 为 GPT-Load 的容器设置 ${name}，而对 ${envPath} 的修改不会改变它（Compose 从 shell 和 ${compose.projectEnvFile ?? `${compose.projectDir}/.env`} 插值）。请把该行改为 "${name}: \${${name}}" 并以 ${envPath} 作为项目的 .env，或用 --env 指定 Compose 读取的 .env，然后重新运行。`,
    };
  }
  if (source.file !== envPath) {
    const how = source.kind === 'env_file' ? `env_file: of service ${service}` : 'mounted as /app/.env';
    const howZh = source.kind === 'env_file' ? `服务 ${service} 的 env_file:` : '挂载为 /app/.env';
    return {
      en: `GPT-Load's container reads ${name} from ${source.file}:${source.line} (${how}), not from ${envPath}. Run with --env ${source.file}, then rerun.`,
      zh: `GPT-Load 的容器从 ${source.file}:${source.line}（${howZh}）读取 ${name}，而不是 ${envPath}。请改用 --env ${source.file} 重新运行。`,
    };
  }
  return {
    en: `Docker Compose would read ${name} at ${at} differently from GPT-Load's godotenv after the change (quotes, "$" or "#" follow other rules there). Nothing can be written that both read the same.`,
    zh: `修改后 Docker Compose 对 ${at} 处 ${name} 的解析将与 GPT-Load 的 godotenv 不同（引号、"$" 或 "#" 的规则不同）。无法写出两者读法一致的值。`,
  };
}

/**
 * Refuses (before anything is written) unless, after `changes` to the deployment's `.env` (value
 * null = removed), GPT-Load's container gets exactly those values from Docker Compose. Without a
 * Compose file, or without a GPT-Load service in it, there is nothing to check.
 */
export function assertComposeDelivers(deployment: ComposeDeploymentRef, changes: Record<string, string | null>): void {
  const current = composeOf(deployment);
  if (!current?.service) return;
  const before = readOrNull(deployment.envPath);
  const after = composeOf(deployment, { [deployment.envPath]: envTextAfter(before ?? '', changes) })!;
  for (const [name, expected] of Object.entries(changes)) {
    const effective = after.effectiveVariable(name);
    const why = explain(after, deployment.envPath, name, effective, expected);
    if (why) throw refusal(why, { variable: name, file: effective.source?.file ?? null, line: effective.source?.line ?? null, kind: effective.source?.kind ?? null });
  }
}

/** The database identity that matters: engine and database (hosts differ inside and outside Compose). */
function sameDatabase(a: DatabaseTarget, b: DatabaseTarget): boolean {
  if (a.kind === 'sqlite' || b.kind === 'sqlite') return a.kind === b.kind && (a as { path: string }).path === (b as { path: string }).path;
  return a.kind === b.kind && a.database === b.database;
}

/**
 * Refuses when Docker Compose gives GPT-Load's container another database than `target` (the one
 * about to be migrated): GPT-Load would restart on data still under the old key. A SQLite file the
 * container keeps outside any bind mount cannot be compared: that is a warning.
 */
export function checkComposeDatabase(deployment: ComposeDeploymentRef, target: DatabaseTarget): Localized | null {
  const compose = composeOf(deployment);
  if (!compose?.service) return null;
  const effective = compose.effectiveVariable('DATABASE_DSN');
  if (effective.error) throw refusal(explain(compose, deployment.envPath, 'DATABASE_DSN', effective, null)!, { variable: 'DATABASE_DSN' });
  let inContainer: DatabaseTarget;
  try {
    // GPT-Load runs in /app: relative SQLite paths resolve there.
    inContainer = resolveDsn(effective.value ?? '', '/app');
  } catch {
    return null;
  }
  const at = effective.source ? where(compose, effective.source.file, effective.source.line) : null;
  const said: Localized = at ? { en: ` (set at ${at})`, zh: `（设置于 ${at}）` } : { en: ' (DATABASE_DSN unset: the default)', zh: '（未设置 DATABASE_DSN：默认值）' };
  if (inContainer.kind === 'sqlite') {
    const host = compose.hostPath(inContainer.path);
    if (host === null) {
      if (target.kind !== 'sqlite') return null;
      return {
        en: `GPT-Load's container (service ${compose.service.name}) keeps its SQLite database at ${inContainer.path}${said.en}, which is not bind-mounted from this host: make sure ${target.path} is that file`,
        zh: `GPT-Load 的容器（服务 ${compose.service.name}）的 SQLite 数据库位于 ${inContainer.path}${said.zh}，未从本机绑定挂载：请确认 ${target.path} 就是该文件`,
      };
    }
    inContainer = { kind: 'sqlite', path: host };
  }
  if (sameDatabase(inContainer, target)) return null;
  throw refusal(
    {
      en: `GPT-Load's container (service ${compose.service.name}) uses ${describeTarget(inContainer)}${said.en}, not ${describeTarget(target)}: after migrating this one, GPT-Load would restart on data still under the old key. Point --env/--dsn at the database the container uses, or fix DATABASE_DSN there, then rerun.`,
      zh: `GPT-Load 的容器（服务 ${compose.service.name}）使用的是 ${describeTarget(inContainer)}${said.zh}，而不是 ${describeTarget(target)}：迁移这个数据库后，GPT-Load 重启时面对的仍是旧密钥下的数据。请用 --env/--dsn 指向容器使用的数据库，或修正那里的 DATABASE_DSN，然后重新运行。`,
    },
    { variable: 'DATABASE_DSN', file: effective.source?.file ?? null, line: effective.source?.line ?? null },
  );
}
