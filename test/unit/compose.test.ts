/**
 * server/core/compose.ts: what GPT-Load's container gets from Docker Compose, on deployments laid
 * out on disk as operators have them (main file + override, project .env, env_file, mounts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { KeystoreError } from '../../server/core/errors';
import { assertComposeDelivers } from '../../server/keystore/composeCheck';
import { STOCK_GPT_LOAD_SERVICE } from '../support/compose';
import { folderWith } from '../support/paths';
import { findComposeFiles, interpolate, isGptLoadImage, looksLikeCompose, parseComposeText, resolveComposeDeployment } from '../../server/core/compose';


const STOCK = `services:\n${STOCK_GPT_LOAD_SERVICE}`;

test('interpolation: $$, $VAR, ${VAR}, ${VAR:-def}, ${VAR-def}, :+, ?, nested defaults', () => {
  const vars: Record<string, string> = { A: 'a', EMPTY: '' };
  const look = (n: string) => vars[n];
  const value = (text: string) => {
    const r = interpolate(text, look);
    return 'error' in r ? `error: ${r.error}` : r.value;
  };
  assert.equal(value('x$$y'), 'x$y');
  assert.equal(value('$A-${A}'), 'a-a');
  assert.equal(value('${EMPTY:-d}|${EMPTY-d}|${UNSET-d}|${UNSET:-${A}}'), 'd||d|a');
  assert.equal(value('${A:+set}|${EMPTY:+set}|${EMPTY+set}'), 'set||set');
  assert.match(value('${UNSET:?give it}'), /^error: required variable UNSET is missing a value$/);
  assert.equal(value('price $5'), 'price $5');
  assert.match(value('${A'), /^error: invalid interpolation/);
  assert.deepEqual((interpolate('${B:-$A}', look) as { references: string[] }).references, ['B', 'A']);
});

test('files: compose.yaml preferred, the override read after it; recognised by name and by content', (t) => {
  const dir = folderWith(t, { 'docker-compose.yml': STOCK, 'compose.yaml': STOCK, 'docker-compose.override.yml': 'services: {}\n' });
  assert.deepEqual(findComposeFiles(dir), [join(dir, 'compose.yaml'), join(dir, 'docker-compose.override.yml')]);
  assert.equal(looksLikeCompose(STOCK), true);
  assert.equal(looksLikeCompose('AUTH_KEY=x\n'), false);
  assert.equal(isGptLoadImage('tbphp/gpt-load:v1.4.9'), true);
  assert.equal(isGptLoadImage('ghcr.io/tbphp/gpt-load@sha256:abc'), true);
  assert.equal(isGptLoadImage('ghcr.io/someone/gpt-load-ui'), false);
});

test('stock deployment: the key comes from env_file .env, with its line; ports interpolated from .env', (t) => {
  const dir = folderWith(t, { 'docker-compose.yml': STOCK, '.env': 'PORT=3002\n# comment\nENCRYPTION_KEY=from-dotenv-Abc123456789xyz\n' });
  const c = resolveComposeDeployment(dir)!;
  assert.equal(c.service?.name, 'gpt-load');
  assert.deepEqual(c.effectiveVariable('ENCRYPTION_KEY'), {
    name: 'ENCRYPTION_KEY',
    value: 'from-dotenv-Abc123456789xyz',
    source: { file: join(dir, '.env'), line: 3, kind: 'env_file' },
    references: [],
  });
  assert.deepEqual(c.ports.map((p) => [p.hostIp, p.published, p.target, p.line]), [['', '3002', '3002', 5]]);
  assert.equal(c.hostPath('/app/data/gpt-load.db'), join(dir, 'data', 'gpt-load.db'));
  assert.equal(c.effectiveVariable('AUTH_KEY').value, undefined);
});

test('environment: overrides env_file, in map and list form, literal or interpolated (shell over project .env)', (t) => {
  const dir = folderWith(t, {
    'compose.yml': `x-common: &common
  restart: always
services:
  mysql:
    image: mariadb:11
  proxy:
    <<: *common
    image: tbphp/gpt-load:v1.4.9
    env_file: [.env, ./conf/extra.env]
    environment:
      - AUTH_KEY=literal-auth-key-0123456789ABCdef
      - ENCRYPTION_KEY=\${ENC:-fallback}
      - REDIS_DSN
      - DOLLAR=a$$b
`,
    '.env': 'ENC="from-project-env"\nDATABASE_DSN=ignored-overridden-below\n',
    'conf/extra.env': 'DATABASE_DSN=root:pw@tcp(mysql:3306)/gpt-load\n',
  });
  const c = resolveComposeDeployment(dir, { processEnv: { REDIS_DSN: 'redis://shell:6379/0' } })!;
  assert.equal(c.service?.name, 'proxy');
  assert.deepEqual(c.effectiveVariable('AUTH_KEY').source, { file: join(dir, 'compose.yml'), line: 11, kind: 'environment' });
  assert.equal(c.effectiveVariable('AUTH_KEY').value, 'literal-auth-key-0123456789ABCdef');
  const enc = c.effectiveVariable('ENCRYPTION_KEY');
  assert.equal(enc.value, 'from-project-env');
  assert.deepEqual(enc.references, [{ name: 'ENC', from: 'project-env' }]);
  assert.equal(resolveComposeDeployment(dir, { processEnv: { ENC: 'shell' } })!.effectiveVariable('ENCRYPTION_KEY').value, 'shell');
  assert.equal(c.effectiveVariable('REDIS_DSN').value, 'redis://shell:6379/0');
  assert.equal(c.effectiveVariable('DOLLAR').value, 'a$b');
  assert.deepEqual(c.effectiveVariable('DATABASE_DSN').source, { file: join(dir, 'conf', 'extra.env'), line: 1, kind: 'env_file' });
  // What the container would get if .env said something else: texts substitute a file's content.
  const after = resolveComposeDeployment(dir, { texts: { [join(dir, '.env')]: 'ENC=changed\n' } })!;
  assert.equal(after.effectiveVariable('ENCRYPTION_KEY').value, 'changed');
});

test('override file: environment merged by name over the main file; map form; mounted .env read as GPT-Load reads it', (t) => {
  const dir = folderWith(t, {
    'docker-compose.yml': STOCK.replace('    env_file:\n      - .env\n', '') + '      - ./.env:/app/.env:ro\n',
    'docker-compose.override.yml': 'services:\n  gpt-load:\n    environment:\n      ENCRYPTION_KEY: "override-key-0123456789ABCDEFab"\n      PORT: 3005\n',
    '.env': 'AUTH_KEY=mounted-auth-0123456789ABCDEFab\nENCRYPTION_KEY=dotenv-key\n',
  });
  const c = resolveComposeDeployment(dir)!;
  assert.deepEqual(c.files, [join(dir, 'docker-compose.yml'), join(dir, 'docker-compose.override.yml')]);
  assert.deepEqual(c.effectiveVariable('ENCRYPTION_KEY').source, { file: join(dir, 'docker-compose.override.yml'), line: 4, kind: 'environment' });
  assert.equal(c.effectiveVariable('PORT').value, '3005');
  assert.deepEqual(c.effectiveVariable('AUTH_KEY'), {
    name: 'AUTH_KEY',
    value: 'mounted-auth-0123456789ABCDEFab',
    source: { file: join(dir, '.env'), line: 1, kind: 'mounted-env' },
    references: [],
  });
});

test('parseComposeText: environment entries with spans for editors; a missing env_file is an error', (t) => {
  const text = 'services:\n  app:\n    environment:\n      AUTH_KEY: abc\n      - broken\n';
  const model = parseComposeText(text);
  assert.equal(model.services[0].environment[0].name, 'AUTH_KEY');
  assert.equal(text.slice(...model.services[0].environment[0].span), 'abc');
  assert.ok(model.errors.length > 0);
  const dir = folderWith(t, { 'compose.yaml': 'services:\n  gpt-load:\n    build: .\n    env_file: missing.env\n' });
  assert.match(resolveComposeDeployment(dir)!.effectiveVariable('AUTH_KEY').error!.en, /missing\.env does not exist/);
});

test('assertComposeDelivers: a service without the .env, an env_file elsewhere, a Compose error — each refused with what to change', (t) => {
  const ref = (dir: string) => ({ envPath: join(dir, '.env'), envDir: dir, processEnv: {} });
  const refusal = (dir: string, changes: Record<string, string | null>) => {
    try {
      assertComposeDelivers(ref(dir), changes);
      return null;
    } catch (err) {
      assert.ok(err instanceof KeystoreError && err.code === 'compose-override');
      return err.text.en;
    }
  };
  const none = folderWith(t, { 'compose.yaml': 'services:\n  gpt-load:\n    image: tbphp/gpt-load\n', '.env': 'AUTH_KEY=a\n' });
  assert.match(refusal(none, { AUTH_KEY: 'b' })!, /gets no AUTH_KEY from Docker Compose: .*Add "env_file: \.env".* compose\.yaml:2/);
  const elsewhere = folderWith(t, { 'compose.yaml': 'services:\n  gpt-load:\n    image: tbphp/gpt-load\n    env_file: conf/gpt.env\n', '.env': '', 'conf/gpt.env': 'AUTH_KEY=a\n' });
  assert.match(refusal(elsewhere, { AUTH_KEY: 'b' })!, /reads AUTH_KEY from .*conf\/gpt\.env:1 \(env_file: of service gpt-load\), not from .*\.env\. Run with --env .*conf\/gpt\.env/);
  const broken = folderWith(t, { 'compose.yaml': 'services:\n  gpt-load:\n    image: tbphp/gpt-load\n    environment:\n      - AUTH_KEY=${NOPE:?}\n' });
  assert.match(refusal(broken, { AUTH_KEY: 'b' })!, /cannot set AUTH_KEY .*compose\.yaml:5\): required variable NOPE is missing a value/);
  // Removing a key the container would not get anyway is fine; so is a deployment without GPT-Load.
  assert.equal(refusal(none, { ENCRYPTION_KEY: null }), null);
  assert.equal(refusal(folderWith(t, { 'compose.yaml': 'services:\n  db:\n    image: mariadb\n' }), { AUTH_KEY: 'b' }), null);
});

test('COMPOSE_FILE (the shell, else the project .env) names the files, with COMPOSE_PATH_SEPARATOR; then no override file is read', (t) => {
  const keys = 'services:\n  gpt-load:\n    environment:\n      ENCRYPTION_KEY: from-keys-file-Qw3Er5Ty7Ui9\n';
  const dir = folderWith(t, {
    '.env': 'COMPOSE_FILE=compose.prod.yml:compose.keys.yml\nENCRYPTION_KEY=from-dotenv-Abc123456789xyz\n',
    'compose.prod.yml': STOCK,
    'compose.keys.yml': keys,
    'docker-compose.yml': STOCK,
    'docker-compose.override.yml': 'services:\n  gpt-load:\n    environment:\n      ENCRYPTION_KEY: from-override-never-read\n',
  });
  const fromDotenv = resolveComposeDeployment(dir)!;
  assert.deepEqual(fromDotenv.files, [join(dir, 'compose.prod.yml'), join(dir, 'compose.keys.yml')]);
  assert.equal(fromDotenv.effectiveVariable('ENCRYPTION_KEY').value, 'from-keys-file-Qw3Er5Ty7Ui9');
  assert.equal(fromDotenv.effectiveVariable('ENCRYPTION_KEY').source?.file, join(dir, 'compose.keys.yml'));
  // The shell's COMPOSE_FILE wins over the .env's; COMPOSE_PATH_SEPARATOR splits it.
  const fromShell = resolveComposeDeployment(dir, { processEnv: { COMPOSE_FILE: 'compose.prod.yml;docker-compose.override.yml', COMPOSE_PATH_SEPARATOR: ';' } })!;
  assert.deepEqual(fromShell.files, [join(dir, 'compose.prod.yml'), join(dir, 'docker-compose.override.yml')]);
  assert.equal(fromShell.effectiveVariable('ENCRYPTION_KEY').value, 'from-override-never-read');
});
