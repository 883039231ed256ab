/**
 * Secrets in environment variables, not hard-coded: none written literally in a Compose file, the
 * `.env` neither in git nor readable by others, and no weak database password (the documentation's
 * own `123456` included).
 */
import { statSync } from 'node:fs';
import { assessSecret, maskSecret } from '../../core/secrets';
import { passwordOf, resolveDsn } from '../../store/dsn';
import { gitIgnoreState } from '../gitCheck';
import type { AuditCompose } from './compose';
import { finding, type AuditFinding } from './findings';
import { placeOf, setting, type AuditInputs } from './inputs';

const DATABASE_PASSWORDS = ['MYSQL_ROOT_PASSWORD', 'MYSQL_PASSWORD', 'POSTGRES_PASSWORD', 'MARIADB_ROOT_PASSWORD', 'MARIADB_PASSWORD'];

/** The password inside a DATABASE_DSN (MySQL or PostgreSQL), or null. */
function dsnPassword(dsn: string): string | null {
  if (dsn === '') return null;
  try {
    return passwordOf(resolveDsn(dsn, '.')) || null;
  } catch {
    // An unparsable DSN is migrate-keys' and status' to report.
  }
  return null;
}

function redisPassword(dsn: string): string | null {
  try {
    return decodeURIComponent(new URL(dsn).password) || null;
  } catch {
    return null;
  }
}

/** Literal secrets under a service's `environment:`: AUTH_KEY, ENCRYPTION_KEY, a DSN's password, a database password. */
function composeLiterals(compose: AuditCompose): AuditFinding[] {
  const out: AuditFinding[] = [];
  for (const service of compose.services) {
    for (const [name, v] of service.environment) {
      if (!v.literal) continue;
      const secret =
        name === 'AUTH_KEY' || name === 'ENCRYPTION_KEY' || DATABASE_PASSWORDS.includes(name) ? v.value : name === 'DATABASE_DSN' ? dsnPassword(v.value) : name === 'REDIS_DSN' ? redisPassword(v.value) : null;
      if (!secret) continue;
      out.push(
        finding('env', 'secret-in-compose', 'fail', {
          en: `${service.name}: ${name} is written in the Compose file (${maskSecret(secret)}), which is usually committed and shared. Move it to .env and write \${${name}} here.`,
          zh: `${service.name}：${name} 直接写在 Compose 文件中（${maskSecret(secret)}），该文件通常会被提交和共享。请移到 .env，并在此处写 \${${name}}。`,
        }, { file: v.file, line: v.line }),
      );
    }
  }
  return out;
}

function weakPassword(password: string): boolean {
  return assessSecret(password, 'proxy key').some((w) => w.severity === 'high');
}

export async function envFindings(inputs: AuditInputs): Promise<AuditFinding[]> {
  const out: AuditFinding[] = [];
  const { envPath } = inputs.deployment;
  const literals = inputs.compose ? composeLiterals(inputs.compose) : [];
  out.push(...(literals.length > 0 ? literals : [finding('env', 'secret-in-compose', inputs.compose ? 'pass' : 'unknown', inputs.compose ? { en: 'No secret written literally in the Compose file.', zh: 'Compose 文件中没有直接写入的密钥。' } : { en: 'No Compose file read.', zh: '未读取 Compose 文件。' })]));

  const exists = inputs.deployment.env.exists;
  const git = exists ? await gitIgnoreState(envPath) : 'no-repo';
  out.push(
    git === 'tracked'
      ? finding('env', 'env-in-git', 'fail', {
          en: `${envPath} is tracked by git: its secrets are in the repository's history. Remove it (git rm --cached .env), add it to .gitignore, and rotate AUTH_KEY and the database password.`,
          zh: `${envPath} 已被 git 跟踪：其中的密钥已进入仓库历史。请移除（git rm --cached .env），加入 .gitignore，并更换 AUTH_KEY 和数据库密码。`,
        }, { file: envPath, fix: 'rotate-auth-key' })
      : git === 'not-ignored'
        ? finding('env', 'env-in-git', 'warn', { en: `${envPath} is in a git work tree and not ignored: one \`git add .\` commits it. Add .env to .gitignore.`, zh: `${envPath} 位于 git 工作区且未被忽略：一次 \`git add .\` 就会提交它。请把 .env 加入 .gitignore。` }, { file: envPath })
        : finding('env', 'env-in-git', 'pass', { en: git === 'ignored' ? '.env is ignored by git.' : '.env is not in a git work tree.', zh: git === 'ignored' ? '.env 已被 git 忽略。' : '.env 不在 git 工作区中。' }),
  );

  if (!exists || process.platform === 'win32') {
    out.push(finding('env', 'env-world-readable', 'unknown', { en: exists ? 'File permissions are not checked on Windows.' : `${envPath} does not exist.`, zh: exists ? 'Windows 上不检查文件权限。' : `${envPath} 不存在。` }));
  } else {
    const mode = statSync(envPath).mode & 0o777;
    out.push(
      mode & 0o044
        ? finding('env', 'env-world-readable', 'warn', {
            en: `${envPath} is readable by ${mode & 0o004 ? 'every user' : 'its group'} (mode ${mode.toString(8)}): chmod 600 .env`,
            zh: `${envPath} 可被${mode & 0o004 ? '所有用户' : '同组用户'}读取（权限 ${mode.toString(8)}）：chmod 600 .env`,
          }, { file: envPath })
        : finding('env', 'env-world-readable', 'pass', { en: `.env is readable by its owner only (mode ${mode.toString(8)}).`, zh: `.env 仅所有者可读（权限 ${mode.toString(8)}）。` }, { file: envPath }),
    );
  }

  const weak: AuditFinding[] = [];
  const dsn = setting(inputs, 'DATABASE_DSN');
  const dsnPass = dsn ? dsnPassword(dsn.value) : null;
  if (dsnPass && weakPassword(dsnPass)) {
    weak.push(finding('env', 'db-password-weak', 'fail', { en: `The database password in DATABASE_DSN is weak (${maskSecret(dsnPass)}): change it in the database and in DATABASE_DSN.`, zh: `DATABASE_DSN 中的数据库密码太弱（${maskSecret(dsnPass)}）：请在数据库和 DATABASE_DSN 中同时修改。` }, placeOf(dsn)));
  }
  for (const service of inputs.compose?.services ?? []) {
    for (const name of DATABASE_PASSWORDS) {
      const v = service.environment.get(name);
      if (v && v.value !== '' && weakPassword(v.value)) {
        weak.push(finding('env', 'db-password-weak', 'fail', { en: `${service.name}: ${name} is weak (${maskSecret(v.value)}), e.g. the documentation's example: choose a strong one.`, zh: `${service.name}：${name} 太弱（${maskSecret(v.value)}），例如文档中的示例密码：请改用强密码。` }, { file: v.file, line: v.line }));
      }
    }
  }
  out.push(...(weak.length > 0 ? weak : [finding('env', 'db-password-weak', 'pass', { en: 'No weak database password found (an empty one is db-password-empty\'s).', zh: '未发现弱数据库密码（空密码见 db-password-empty）。' })]));
  return out;
}
