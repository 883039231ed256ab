/**
 * The audit's readers on real-world shapes: nginx (includes with globs, several servers, location
 * blocks, upstreams), Caddyfiles (global options, snippets, site blocks, a single braceless site),
 * Compose environment and labels, GPT-Load's log lines (text, terminal, JSON, `docker compose logs`
 * prefix), access logs (nginx combined, Caddy JSON) and the burst count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseAccessLine } from '../../server/keystore/audit/accessLog';
import { readCaddyfile, siteServesHttps } from '../../server/keystore/audit/caddyfile';
import { readAuditCompose } from '../../server/keystore/audit/compose';
import { resolveDeployment } from '../../server/keystore/deployment';
import { parseGptLoadLine } from '../../server/keystore/audit/gptLoadLog';
import { failureKind, FailureTally } from '../../server/keystore/audit/logins';
import { nginxServers, nginxUpstreams, readNginxConfig } from '../../server/keystore/audit/nginx';
import { readFrontDoors } from '../../server/keystore/audit/proxies';
import { folderWith } from '../support/paths';

const ADDRESS = { ports: ['3001'], serviceNames: ['gpt-load'] };

test('nginx: includes with globs, servers in http and in included files, locations, upstreams, comments and quotes', (t) => {
  const dir = folderWith(t, {
    'nginx.conf': 'events {}\nhttp {\n  # allow 10.0.0.0/8;\n  include sites-enabled/*;\n  include conf.d/*.conf;\n}\n',
    'sites-enabled/a': 'server {\n  listen 443 ssl http2;\n  server_name "a.example.com";\n  ssl_certificate /c.pem;\n  location / {\n    allow 10.0.0.0/8;\n    deny all;\n    proxy_pass http://backend;\n  }\n  location /proxy/ { proxy_pass http://backend; }\n}\n',
    'conf.d/upstream.conf': 'upstream backend {\n  server 127.0.0.1:3001 max_fails=3;\n}\n',
    'conf.d/plain.conf': 'server {\n  listen 80;\n  server_name b.example.com;\n  location ~ \\.php$ { return 404; }\n  location /api/ { proxy_pass http://gpt-load:3001/api/; }\n  location = / { proxy_pass http://gpt-load:3001; }\n}\n',
    'conf.d/other.conf': 'server { listen 8080; location / { proxy_pass http://127.0.0.1:9000; } }\n',
  });
  const config = readNginxConfig(join(dir, 'nginx.conf'));
  assert.equal(config.files.length, 5);
  assert.deepEqual(nginxServers(config.directives).map((s) => s.server.line), [1, 1, 1]);
  assert.deepEqual(nginxUpstreams(config.directives).get('backend'), ['127.0.0.1:3001']);
  const { doors } = readFrontDoors([join(dir, 'nginx.conf')], null, ADDRESS);
  assert.deepEqual(
    doors.map((d) => [d.label, d.tls, d.adminRestricted, d.line]),
    [
      ['a.example.com', true, true, 1],
      ['b.example.com', false, false, 1],
    ],
  );
  assert.match(doors[1].file, /plain\.conf$/);
});

test('nginx: deny at server level covers every location; a missing include is reported, not fatal', (t) => {
  const dir = folderWith(t, { 'site.conf': 'server {\n  listen 443 ssl;\n  allow 192.168.0.0/16;\n  deny all;\n  include snippets/missing.conf;\n  location / { proxy_pass http://127.0.0.1:3001; }\n}\n' });
  const config = readNginxConfig(join(dir, 'site.conf'));
  assert.equal(config.problems.length, 1);
  assert.match(config.problems[0].text, /missing\.conf/);
  const { doors } = readFrontDoors([join(dir, 'site.conf')], null, ADDRESS);
  assert.deepEqual(doors.map((d) => [d.tls, d.adminRestricted]), [[true, true]]);
});

test('Caddyfile: global options, snippets, several site blocks, http:// and :80 addresses, imports', (t) => {
  const dir = folderWith(t, {
    Caddyfile: '{\n\temail ops@example.com\n}\n(limit) {\n\t@blocked not remote_ip 10.0.0.0/8\n\trespond @blocked 403\n}\ngpt.example.com, www.gpt.example.com {\n\timport limit\n\treverse_proxy gpt-load:3001\n}\n\nhttp://plain.example.com {\n\treverse_proxy 127.0.0.1:3001\n}\n:80 {\n\treverse_proxy /api/* 127.0.0.1:3001\n}\nimport sites/*.caddy\n',
    'sites/other.caddy': 'other.example.com {\n\treverse_proxy 127.0.0.1:8080\n}\n',
  });
  const caddy = readCaddyfile(join(dir, 'Caddyfile'));
  assert.deepEqual(caddy.sites.map((s) => [s.addresses, siteServesHttps(s, caddy.autoHttpsOff)]), [
    [['gpt.example.com', 'www.gpt.example.com'], true],
    [['http://plain.example.com'], false],
    [[':80'], false],
    [['other.example.com'], true],
  ]);
  const { doors } = readFrontDoors([join(dir, 'Caddyfile')], null, ADDRESS);
  assert.deepEqual(doors.map((d) => [d.label, d.tls, d.adminRestricted, d.line]), [
    ['gpt.example.com, www.gpt.example.com', true, true, 8],
    ['http://plain.example.com', false, false, 13],
    [':80', false, false, 16],
  ]);
});

test('Caddyfile: a single site without braces; auto_https off', (t) => {
  const dir = folderWith(t, { Caddyfile: 'gpt.example.com\nreverse_proxy localhost:3001\n', 'off/Caddyfile': '{\n\tauto_https off\n}\ngpt.example.com {\n\treverse_proxy localhost:3001\n}\n' });
  const [single] = readFrontDoors([join(dir, 'Caddyfile')], null, ADDRESS).doors;
  assert.deepEqual([single.label, single.tls], ['gpt.example.com', true]);
  const [off] = readFrontDoors([join(dir, 'off', 'Caddyfile')], null, ADDRESS).doors;
  assert.equal(off.tls, false);
});

test('Compose: every service\'s environment (literal or interpolated) and GPT-Load\'s labels, map and list forms, with lines', (t) => {
  const dir = folderWith(t, {
    '.env': 'AUTH_KEY=from-env\n',
    'docker-compose.yml':
      'services:\n  gpt-load:\n    image: ghcr.io/tbphp/gpt-load:latest\n    ports:\n      - "127.0.0.1:3001:3001"\n    environment:\n      - AUTH_KEY=${AUTH_KEY}\n      - ENCRYPTION_KEY=literal-value\n    labels:\n      traefik.enable: "true"\n      traefik.http.routers.gl.rule: Host(`gpt.example.com`)\n  mysql:\n    image: mysql:8.2\n    environment:\n      MYSQL_ROOT_PASSWORD: 123456\n',
  });
  const compose = readAuditCompose(resolveDeployment({ cwd: dir, processEnv: {} }))!;
  const [gptLoad, mysql] = compose.services;
  assert.deepEqual([gptLoad.name, gptLoad.publishes, mysql.publishes], ['gpt-load', true, false]);
  assert.deepEqual({ ...gptLoad.environment.get('AUTH_KEY'), file: '' }, { value: 'from-env', literal: false, file: '', line: 7 });
  assert.deepEqual({ ...gptLoad.environment.get('ENCRYPTION_KEY'), file: '' }, { value: 'literal-value', literal: true, file: '', line: 8 });
  assert.deepEqual([mysql.environment.get('MYSQL_ROOT_PASSWORD')?.value, mysql.environment.get('MYSQL_ROOT_PASSWORD')?.line], ['123456', 15]);
  assert.deepEqual([...compose.labels].map(([k, v]) => [k, v.value, v.line]), [
    ['traefik.enable', 'true', 10],
    ['traefik.http.routers.gl.rule', 'Host(`gpt.example.com`)', 11],
  ]);
});

test("GPT-Load's log: text, terminal (colours), JSON, docker compose prefix; query strings dropped; other lines ignored", () => {
  const cases: Array<[string, ReturnType<typeof parseGptLoadLine>]> = [
    ['time="2026-11-30 09:00:00" level=warning msg="POST /api/auth/login - 401 - 1.482ms"', { time: '2026-11-30 09:00:00', method: 'POST', path: '/api/auth/login', status: 401 }],
    ['\x1b[33mWARN\x1b[0m[2026-11-30 09:00:01] GET /api/groups - 401 - 152.3µs', { time: '2026-11-30 09:00:01', method: 'GET', path: '/api/groups', status: 401 }],
    ['{"level":"warning","msg":"POST /proxy/openai/v1/chat/completions?key=x - 403 - 98µs","time":"2026-11-30T09:00:02.000+08:00"}', { time: '2026-11-30 09:00:02', method: 'POST', path: '/proxy/openai/v1/chat/completions', status: 403 }],
    ['gpt-load  | time="2026-11-30 09:00:03" level=info msg="GET /health - 200 - 20µs"', { time: '2026-11-30 09:00:03', method: 'GET', path: '/health', status: 200 }],
    ['gpt-load-1  | {"level":"error","msg":"POST /proxy/g/v1 - 502 - 1.2s - Key[3] sk-a… - Retry[1]","time":"2026-11-30T09:00:04Z"}', { time: '2026-11-30 09:00:04', method: 'POST', path: '/proxy/g/v1', status: 502 }],
    ['time="2026-11-30 08:00:00" level=info msg="Server started on 0.0.0.0:3001"', null],
    ['not a log line', null],
  ];
  for (const [line, expected] of cases) assert.deepEqual(parseGptLoadLine(line), expected, line);
});

test('access logs: nginx combined and Caddy JSON give the client IP', () => {
  assert.deepEqual(parseAccessLine('203.0.113.7 - - [30/Nov/2026:09:00:00 +0000] "POST /api/auth/login HTTP/1.1" 401 42 "-" "curl/8.5.0"'), {
    ip: '203.0.113.7', time: '2026-11-30 09:00:00', method: 'POST', path: '/api/auth/login', status: 401,
  });
  const caddy = JSON.stringify({ level: 'info', ts: Date.UTC(2026, 10, 30, 9, 0, 0) / 1000, logger: 'http.log.access', request: { remote_ip: '10.0.0.2', client_ip: '198.51.100.9', method: 'GET', uri: '/api/keys?page=2' }, status: 401 });
  assert.deepEqual(parseAccessLine(caddy), { ip: '198.51.100.9', time: '2026-11-30 09:00:00', method: 'GET', path: '/api/keys', status: 401 });
  assert.equal(failureKind({ method: 'GET', path: '/api/keys', status: 401 }), 'admin-api');
  assert.equal(failureKind({ method: 'POST', path: '/proxy/x/v1', status: 403 }), 'proxy');
  assert.equal(failureKind({ method: 'GET', path: '/health', status: 401 }), null);
});

test('bursts: ≥ N within M minutes, with their window; sparse failures make none', () => {
  const tally = new FailureTally({ count: 3, minutes: 10 });
  for (const time of ['2026-11-30 09:00:00', '2026-11-30 09:04:00', '2026-11-30 09:09:00', '2026-11-30 09:12:00', '2026-11-30 12:00:00', '2026-11-30 13:00:00']) tally.add(time);
  assert.deepEqual(tally.bursts, [{ from: '2026-11-30 09:00:00', to: '2026-11-30 09:12:00', count: 4 }]);
  assert.equal(tally.total, 6);
  assert.deepEqual(tally.busiestHours(1), [{ hour: '2026-11-30 09:00', count: 4 }]);
});
