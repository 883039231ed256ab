/**
 * Admin UI limited by IP: GPT-Load's port not published on every interface where a proxy could be
 * bypassed, and each proxy limiting `/` and `/api/` by client IP (`/proxy/` may stay open).
 */
import { finding, type AuditFinding } from './findings';
import type { AuditInputs } from './inputs';
import { exposure } from './network';

export function adminAccessFindings(inputs: AuditInputs): AuditFinding[] {
  const open = exposure(inputs);
  const where = { ...(open.file ? { file: open.file } : {}), ...(open.line ? { line: open.line } : {}) };
  const doors = inputs.proxies.doors;
  const out: AuditFinding[] = [];
  if (!open.allInterfaces) {
    out.push(finding('admin-access', 'admin-exposed', 'pass', { en: `GPT-Load's port is not published on every interface (${open.how}).`, zh: `GPT-Load 的端口未在所有网络接口上发布（${open.how}）。` }, where));
  } else if (doors.length === 0) {
    out.push(
      finding('admin-access', 'admin-exposed', 'fail', {
        en: `GPT-Load's admin UI is published on every interface (${open.how}) with no reverse proxy in front: anyone who reaches the host can try AUTH_KEY, and GPT-Load does not rate-limit logins. Bind it to 127.0.0.1 (${open.byHost ? 'HOST=127.0.0.1 in .env' : 'e.g. ports "127.0.0.1:3001:3001"'}) behind a reverse proxy, or limit it by firewall.`,
        zh: `GPT-Load 的管理界面在所有网络接口上发布（${open.how}），前面没有反向代理：能访问主机的任何人都可以尝试 AUTH_KEY，而 GPT-Load 不限制登录频率。请绑定到 127.0.0.1（${open.byHost ? '在 .env 中设置 HOST=127.0.0.1' : '如 ports "127.0.0.1:3001:3001"'}）并置于反向代理之后，或用防火墙限制。`,
      }, where),
    );
  } else {
    out.push(
      finding('admin-access', 'admin-exposed', 'warn', {
        en: `GPT-Load's port is published on every interface (${open.how}) although a reverse proxy is in front: clients can bypass it (and its TLS and IP limits). Publish it on 127.0.0.1 only, or make sure a firewall closes it.`,
        zh: `虽然前面有反向代理，GPT-Load 的端口仍在所有网络接口上发布（${open.how}）：客户端可以绕过代理（及其 TLS 和 IP 限制）。请只在 127.0.0.1 上发布，或确认防火墙已关闭该端口。`,
      }, where),
    );
  }
  if (doors.length === 0) {
    out.push(finding('admin-access', 'admin-ip-unrestricted', 'unknown', { en: 'No reverse proxy configuration read: IP limits by a firewall cannot be seen from here. Pass the proxy config with --proxy-config FILE.', zh: '未读取反向代理配置：此处无法看到防火墙的 IP 限制。请用 --proxy-config FILE 传入代理配置。' }));
    return out;
  }
  for (const d of doors) {
    out.push(
      d.adminRestricted
        ? finding('admin-access', 'admin-ip-unrestricted', 'pass', { en: `${d.kind} ${d.label} limits the admin UI by client IP.`, zh: `${d.kind} ${d.label} 按客户端 IP 限制了管理界面。` }, { file: d.file, line: d.line })
        : finding('admin-access', 'admin-ip-unrestricted', 'warn', {
            en: `${d.kind} ${d.label} passes the admin UI (/ and /api/) to GPT-Load from any client IP. ${d.kind === 'nginx' ? 'Add allow <your network>; deny all; to location / and /api/ (keep /proxy/ open).' : d.kind === 'caddy' ? 'Add a remote_ip matcher (e.g. @admin not remote_ip 10.0.0.0/8 + respond @admin 403) for / and /api/.' : 'Add an ipAllowList middleware to the admin router.'}`,
            zh: `${d.kind} ${d.label} 允许任意客户端 IP 访问管理界面（/ 和 /api/）。${d.kind === 'nginx' ? '请在 location / 和 /api/ 中添加 allow <你的网段>; deny all;（/proxy/ 可保持开放）。' : d.kind === 'caddy' ? '请为 / 和 /api/ 添加 remote_ip 匹配器（如 @admin not remote_ip 10.0.0.0/8 加 respond @admin 403）。' : '请为管理路由添加 ipAllowList 中间件。'}`,
          }, { file: d.file, line: d.line }),
    );
  }
  return out;
}
