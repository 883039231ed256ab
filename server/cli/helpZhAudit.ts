/**
 * Simplified Chinese `--help` of `audit` and `rotate-auth-key`, spread into HELP_ZH
 * (server/cli/helpZh.ts) as `...auditHelpZh(DEPLOYMENT_HELP_ZH)`. Same flags and
 * exit codes as the English texts in ./audit.ts and ./rotateAuthKey.ts.
 */
import { DEFAULT_SECRET_LENGTH } from '../core/secrets';
import { DEFAULT_BURST } from '../keystore/audit/logins';

export function auditHelpZh(deploymentHelpZh: string): Record<'audit' | 'rotate-auth-key', { summary: string; help: string }> {
  return {
    audit: {
      summary: '按 GPT-Load 的安全最佳实践检查部署（HTTPS、IP 限制、登录、密钥）',
      help: `用法：gpt-load-keystore audit [--env FILE] [--compose FILE] [--log FILE|-] [--access-log FILE]
                              [--proxy-config FILE]... [--json]

在此部署上逐项检查 GPT-Load 安全页面的最佳实践清单，并按其标题输出检查表：AUTH_KEY（已设置、
足够强、90 天内更换过、不是代理密钥）、ENCRYPTION_KEY 与数据（已加密、密钥正确、副本已检查、
没有明文残留）、备份、敏感信息不写在 Compose 文件和 git 中、反向代理（nginx、Caddy、Traefik
标签）上的 HTTPS 与管理界面 IP 限制、GPT-Load 日志中的失败登录、Redis / 数据库（TLS、密码）/ CORS。
每一项为通过、警告、失败或未知，并说明原因和下一步。只读；密钥最多以遮盖形式出现。

选项：
  --compose FILE        Docker Compose 文件（默认：.env 旁的 docker-compose.yml / compose.yaml）
  --log FILE|-          GPT-Load 的日志（文本、JSON 或 \`docker compose logs\` 的输出；- 表示标准输入）。
                        默认：存在时读取 LOG_FILE_PATH（./data/logs/app.log）。可重复。
  --access-log FILE     反向代理的访问日志（nginx combined、Caddy JSON）：用于客户端 IP。可重复。
  --proxy-config FILE   nginx 或 Caddy 配置（可重复）；部署目录中的配置会自动找到
  --burst-count N       构成一次爆发的失败次数（默认 ${DEFAULT_BURST.count}）
  --burst-minutes M     …在这么多分钟之内（默认 ${DEFAULT_BURST.minutes}）
  --backups DIR         备份目录（默认 .env 旁的 backups/）
  --max-age DAYS        超过此天数的备份视为过旧（默认 7）
  --json                {"findings":[{"code","severity","item","message","file"?,"line"?}], …}
${deploymentHelpZh}

退出码：0 没有警告或失败，1 有警告或失败，2 参数错误，3 .env 无法读取。

示例：
  gpt-load-keystore audit --env /srv/gpt-load/.env --proxy-config /etc/nginx/nginx.conf
  docker compose logs gpt-load | gpt-load-keystore audit --log - --access-log /var/log/nginx/access.log`,
    },
    'rotate-auth-key': {
      summary: '替换 .env 中的 AUTH_KEY，从已存储的代理密钥中删除旧密钥，并记录日期',
      help: `用法：gpt-load-keystore rotate-auth-key [--env FILE] [--new-key-env VAR | --new-key-file FILE | --prompt]
                                        [--keep-proxy-keys] [--yes] [--json]

GPT-Load 建议每 3–6 个月更换一次 AUTH_KEY。此命令把新的 AUTH_KEY 写入 .env（自动生成：${DEFAULT_SECRET_LENGTH} 个
通过 GPT-Load 检查的随机字符 —— 或由你提供，取自环境变量、文件或提示输入，绝不取自命令行），
从 GPT-Load 复制过旧密钥的 system_settings.proxy_keys 和每个分组的 proxy_keys 中删除它（一个
事务），在 .env 旁记录日期（.gpt-load-keystore.json：只有指纹和日期，供 \`audit\` 和 VS Code
扩展读取），并输出重启命令。若 Docker Compose 不会把新密钥交给 GPT-Load 的容器，则拒绝执行。
新密钥不会被打印：它在 .env 中。

选项：
  --new-key-env VAR     从此环境变量读取新密钥
  --new-key-file FILE   从只有一行的文件读取
  --prompt              无回显输入
  --length N            自动生成的密钥长度（默认 ${DEFAULT_SECRET_LENGTH}，至少 16）
  --keep-proxy-keys     不修改已存储的代理密钥（无需数据库）
  --yes                 不询问确认（标准输入不是终端时必须提供）
  --json                机器可读的结果（已遮盖）
${deploymentHelpZh}

退出码：0 已更换，2 参数错误或新密钥太弱，3 .env 无法读取，5 被拒绝（Compose 覆盖或未确认），
7 无法连接。

示例：
  gpt-load-keystore rotate-auth-key && docker compose up -d --force-recreate gpt-load
  NEW_AUTH_KEY=… gpt-load-keystore rotate-auth-key --new-key-env NEW_AUTH_KEY --yes`,
    },
  };
}
