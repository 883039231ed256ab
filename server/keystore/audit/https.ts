/** HTTPS in production: every reverse proxy passing requests to GPT-Load serves TLS. */
import { finding, type AuditFinding } from './findings';
import type { AuditInputs } from './inputs';
import { exposure } from './network';

export function httpsFindings(inputs: AuditInputs): AuditFinding[] {
  const doors = inputs.proxies.doors;
  const read = inputs.proxies.files.length > 0 ? inputs.proxies.files.join(', ') : '—';
  if (doors.length === 0) {
    const open = exposure(inputs);
    if (!open.allInterfaces) {
      return [finding('https', 'no-https', 'pass', { en: `GPT-Load is reachable from this host only (${open.how}); serve it through a TLS reverse proxy before opening it.`, zh: `GPT-Load 仅可从本机访问（${open.how}）；对外开放前请通过带 TLS 的反向代理提供服务。` }, { file: open.file, line: open.line })];
    }
    return [
      finding('https', 'no-https', 'fail', {
        en: `GPT-Load is reachable over plain HTTP (${open.how}) and no reverse proxy with TLS in front of it was found (configs read: ${read}). AUTH_KEY and proxy keys cross the network in clear: put nginx (listen 443 ssl), Caddy (automatic HTTPS) or Traefik (TLS router) in front, or pass its config with --proxy-config FILE.`,
        zh: `GPT-Load 可通过明文 HTTP 访问（${open.how}），且未找到其前面带 TLS 的反向代理（已读取的配置：${read}）。AUTH_KEY 和代理密钥以明文在网络上传输：请在前面部署 nginx（listen 443 ssl）、Caddy（自动 HTTPS）或 Traefik（TLS 路由），或用 --proxy-config FILE 传入其配置。`,
      }, { file: open.file, line: open.line }),
    ];
  }
  const plain = doors.filter((d) => !d.tls);
  if (plain.length === 0) {
    return [finding('https', 'no-https', 'pass', { en: `Every reverse proxy route to GPT-Load serves TLS (${doors.map((d) => `${d.kind} ${d.label}`).join(', ')}).`, zh: `所有指向 GPT-Load 的反向代理路由均使用 TLS（${doors.map((d) => `${d.kind} ${d.label}`).join('、')}）。` })];
  }
  return plain.map((d) =>
    finding('https', 'no-https', 'fail', {
      en: `${d.kind} ${d.label} passes requests to GPT-Load without TLS: AUTH_KEY and proxy keys cross the network in clear. ${d.kind === 'nginx' ? 'Add listen 443 ssl with ssl_certificate, and redirect port 80.' : d.kind === 'caddy' ? 'Use a domain name as the site address (automatic HTTPS), not http:// or :80.' : 'Add tls=true (or tls.certresolver) to the router.'}`,
      zh: `${d.kind} ${d.label} 未使用 TLS 转发到 GPT-Load：AUTH_KEY 和代理密钥以明文在网络上传输。${d.kind === 'nginx' ? '请添加 listen 443 ssl 和 ssl_certificate，并将 80 端口重定向。' : d.kind === 'caddy' ? '请使用域名作为站点地址（自动 HTTPS），而不是 http:// 或 :80。' : '请为路由添加 tls=true（或 tls.certresolver）。'}`,
    }, { file: d.file, line: d.line }),
  );
}
