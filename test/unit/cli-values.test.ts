import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codecFor } from '../../server/core/crypto';
import { REPO_ROOT, fixturePath } from '../support/paths';

const CLI = join(REPO_ROOT, 'dist', 'cli.js');

interface Vector {
  password: string;
  plaintext: string;
  ciphertext: string;
  hash: string;
}

const VECTORS: Vector[] = readFileSync(fixturePath('vectors', 'gpt-load-crypto.jsonl'), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line));
const PASSWORDS = [...new Set(VECTORS.map((v) => v.password))];
/** stdin carries one value a line: plaintexts with a line break cannot be given that way. */
const oneLine = (v: Vector) => !/[\r\n]/.test(v.plaintext);

function cli(args: string[], input: string, env: NodeJS.ProcessEnv = {}, cwd = REPO_ROOT) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, input, encoding: 'utf8', env: { PATH: process.env.PATH, LANG: 'C', ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lines = (values: string[]) => values.map((v) => v + '\n').join('');

function tempEnv(t: { after(fn: () => void): void }, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'glk-values-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, '.env'), text);
  return dir;
}

/** The three ways to give the key, each as [args, env, cwd]. */
function keySources(t: { after(fn: () => void): void }, password: string): Array<[string, string[], NodeJS.ProcessEnv, string]> {
  const dir = tempEnv(t, `AUTH_KEY=Q7vK2mZp9Lr4Xw8Tn3Bc6Hd1Fg5Js0Ya\nENCRYPTION_KEY='${password}'\n`);
  return [
    ['--key', ['--key', password], {}, REPO_ROOT],
    ['ENCRYPTION_KEY variable', [], { ENCRYPTION_KEY: password }, REPO_ROOT],
    ['--env FILE', ['--env', '.env'], {}, dir],
    ['./.env by default', [], {}, dir],
  ];
}

test('decrypt: every GPT-Load ciphertext of the vectors, under every key and from every key source', (t) => {
  for (const password of PASSWORDS.filter((p) => p !== '')) {
    const vectors = VECTORS.filter((v) => v.password === password && oneLine(v));
    for (const [source, args, env, cwd] of keySources(t, password)) {
      const r = cli(['decrypt', ...args], lines(vectors.map((v) => v.ciphertext)), env, cwd);
      assert.equal(r.status, 0, `${source} ${JSON.stringify(password)}: ${r.stderr}`);
      assert.equal(r.stdout, lines(vectors.map((v) => v.plaintext)), `${source} ${JSON.stringify(password)}`);
      assert.equal(r.stderr, '');
    }
  }
});

test('hash: key_hash equal to the vectors (HMAC under a key, SHA-256 without), "" for an empty value', (t) => {
  for (const password of PASSWORDS) {
    const vectors = VECTORS.filter((v) => v.password === password && oneLine(v));
    const sources = password === '' ? ([['no key', [], {}, REPO_ROOT]] as const) : keySources(t, password);
    for (const [source, args, env, cwd] of sources) {
      const r = cli(['hash', ...args], lines(vectors.map((v) => v.plaintext)), env, cwd);
      assert.equal(r.status, 0, `${source}: ${r.stderr}`);
      assert.equal(r.stdout, lines(vectors.map((v) => v.hash)), `${source} ${JSON.stringify(password)}`);
    }
  }
});

test('encrypt: fresh GPT-Load ciphertexts that decrypt back (through the CLI and the core), never the plaintext', (t) => {
  for (const password of PASSWORDS.filter((p) => p !== '')) {
    const plaintexts = VECTORS.filter((v) => v.password === password && oneLine(v)).map((v) => v.plaintext);
    const codec = codecFor(password);
    for (const [source, args, env, cwd] of keySources(t, password)) {
      const r = cli(['encrypt', ...args], lines(plaintexts), env, cwd);
      assert.equal(r.status, 0, `${source}: ${r.stderr}`);
      const stored = r.stdout.split('\n').slice(0, -1);
      assert.equal(stored.length, plaintexts.length);
      stored.forEach((value, i) => {
        assert.match(value, /^[0-9a-f]+$/, 'lowercase hex');
        assert.equal(value.length, 2 * (12 + Buffer.byteLength(plaintexts[i]) + 16), 'nonce ‖ ciphertext ‖ tag');
        assert.equal(codec.decrypt(value), plaintexts[i]);
        if (plaintexts[i].length >= 4) assert.ok(!value.includes(Buffer.from(plaintexts[i]).toString('hex')), 'not the plaintext in hex');
      });
      assert.ok(!r.stdout.includes('sk-proj-abc123') && !r.stderr.includes(password));
      const back = cli(['decrypt', '--key', password], r.stdout);
      assert.equal(back.stdout, lines(plaintexts), `${source}: round trip`);
    }
    // Random nonces: the same value twice gives two ciphertexts.
    const twice = cli(['encrypt', '--key', password], 'sk-same\nsk-same\n').stdout.split('\n');
    assert.notEqual(twice[0], twice[1]);
  }
});

test('no key anywhere: GPT-Load\'s disabled mode — encrypt and decrypt are the identity, as the vectors store it', () => {
  const vectors = VECTORS.filter((v) => v.password === '' && oneLine(v));
  const input = lines(vectors.map((v) => v.plaintext));
  const encrypted = cli(['encrypt'], input);
  assert.equal(encrypted.status, 0);
  assert.equal(encrypted.stdout, lines(vectors.map((v) => v.ciphertext)));
  assert.equal(cli(['decrypt'], input).stdout, input);
  // An empty ENCRYPTION_KEY in the environment is GPT-Load's disabled mode too.
  assert.equal(cli(['hash'], input, { ENCRYPTION_KEY: '' }).stdout, lines(vectors.map((v) => v.hash)));
});

test('key sources: --key over the ENCRYPTION_KEY variable over --env FILE; a .env without ENCRYPTION_KEY is disabled mode', (t) => {
  const [a, b, c] = PASSWORDS.filter((p) => p !== '');
  const vector = (password: string) => VECTORS.find((v) => v.password === password && v.plaintext === 'sk-proj-abc123')!;
  const dir = tempEnv(t, `ENCRYPTION_KEY='${c}'\n`);
  assert.equal(cli(['hash', '--key', a, '--env', '.env'], 'sk-proj-abc123\n', { ENCRYPTION_KEY: b }, dir).stdout, vector(a).hash + '\n');
  assert.equal(cli(['hash', '--env', '.env'], 'sk-proj-abc123\n', { ENCRYPTION_KEY: b }, dir).stdout, vector(b).hash + '\n');
  assert.equal(cli(['hash', '--env', '.env'], 'sk-proj-abc123\n', {}, dir).stdout, vector(c).hash + '\n');
  writeFileSync(join(dir, 'plain.env'), 'AUTH_KEY=Q7vK2mZp9Lr4Xw8Tn3Bc6Hd1Fg5Js0Ya\n');
  assert.equal(cli(['hash', '--env', 'plain.env'], 'sk-proj-abc123\n', {}, dir).stdout, VECTORS.find((v) => v.password === '' && v.plaintext === 'sk-proj-abc123')!.hash + '\n');
  const missing = cli(['hash', '--env', 'absent.env'], 'x\n', {}, dir);
  assert.equal(missing.status, 3);
  assert.match(missing.stderr, /absent\.env does not exist/);
});

test('decrypt: a bad line exits 4, stays empty on stdout, is named on stderr and never quoted; the others still decrypt', () => {
  const password = PASSWORDS.find((p) => p !== '')!;
  const good = VECTORS.filter((v) => v.password === password && v.plaintext.startsWith('sk-'))[0];
  const otherKey = VECTORS.find((v) => v.password !== password && v.password !== '' && v.plaintext === good.plaintext)!;
  const flipped = good.ciphertext.slice(0, -2) + (good.ciphertext.slice(-2) === 'ff' ? '00' : 'ff');
  const bad = [
    'sk-proj-NotEncryptedAtAll0123', // not hex
    good.ciphertext.slice(0, -1), // odd length
    good.ciphertext.slice(0, 40), // too short for nonce + tag
    flipped, // tag mismatch
    otherKey.ciphertext, // another key's ciphertext
  ];
  const input = [good.ciphertext, ...bad, good.ciphertext];
  const r = cli(['decrypt', '--key', password], lines(input));
  assert.equal(r.status, 4);
  assert.equal(r.stdout, lines([good.plaintext, '', '', '', '', '', good.plaintext]));
  const errors = r.stderr.trim().split('\n');
  assert.deepEqual(
    errors.map((e) => e.split(':')[0]),
    ['line 2', 'line 3', 'line 4', 'line 5', 'line 6'],
  );
  assert.match(errors[0], /not hex/);
  assert.match(errors[1], /not hex/);
  assert.match(errors[2], /too short/);
  assert.match(errors[3], /authentication failed/);
  assert.match(errors[4], /authentication failed/);
  for (const value of [...bad, good.plaintext, password]) assert.ok(!r.stderr.includes(value), 'no value on stderr');
  assert.ok(!r.stderr.includes(good.ciphertext.slice(0, 24)), 'no ciphertext on stderr');

  const zh = cli(['decrypt', '--key', password, '--lang', 'zh-CN'], lines([flipped]));
  assert.equal(zh.status, 4);
  assert.match(zh.stderr, /^第 1 行：认证失败/);
});

test('decrypt: a value with a line break cannot be printed one per line — exit 4, the line named, later lines stay aligned', () => {
  const password = PASSWORDS.find((p) => p !== '')!;
  const multi = VECTORS.find((v) => v.password === password && /\n/.test(v.plaintext))!;
  const good = VECTORS.find((v) => v.password === password && v.plaintext === 'sk-proj-abc123')!;
  const r = cli(['decrypt', '--key', password], lines([multi.ciphertext, good.ciphertext]));
  assert.equal(r.status, 4);
  assert.equal(r.stdout, lines(['', good.plaintext]));
  assert.match(r.stderr, /^line 1: the result contains a line break/);
  assert.ok(!r.stderr.includes('with'));
});

test('CRLF input and a large input keep one result per line', () => {
  const password = PASSWORDS.find((p) => p !== '')!;
  assert.equal(cli(['hash', '--key', password], 'a\r\nb\r\n').stdout, lines([codecFor(password).hash('a'), codecFor(password).hash('b')]));
  const many = Array.from({ length: 5000 }, (_, i) => `sk-${i}`);
  const r = cli(['hash'], lines(many));
  assert.equal(r.status, 0);
  assert.equal(r.stdout, lines(many.map((v) => codecFor('').hash(v))));
});
