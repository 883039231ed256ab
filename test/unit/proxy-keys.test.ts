/** Proxy key lists split, trimmed and edited exactly as GPT-Load's utils.SplitAndTrim reads them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goTrimSpace, proxyKeyEntries, proxyKeyValue, withoutProxyKey } from '../../server/keystore/proxyKeys';

test("goTrimSpace is Go's strings.TrimSpace, not String.prototype.trim", () => {
  assert.equal(goTrimSpace(' \t\r\n\v\f a b \u00a0\u3000'), 'a b');
  // Go's unicode.IsSpace holds U+0085 (NEL) and not U+FEFF (BOM); JavaScript's trim the other way round.
  assert.equal(goTrimSpace('\u0085key\u0085'), 'key');
  assert.equal(goTrimSpace('\ufeffkey'), '\ufeffkey');
  assert.equal(goTrimSpace('\u2000\u200a\u2028\u2029\u202f\u205f\u1680k\u1680'), 'k');
  assert.equal(goTrimSpace('\u200bk'), '\u200bk', 'a zero-width space is not white space in Go');
});

test('entries: split at commas, trimmed, empty ones skipped, positions numbered as the dashboard numbers them', () => {
  const global = { kind: 'global' } as const;
  const group = { kind: 'group', id: 7, name: 'openai' } as const;
  const entries = proxyKeyEntries([
    { place: global, text: ' a ,, b,\u0085' },
    { place: group, text: 'c' },
    { place: global, text: '' },
  ]);
  assert.deepEqual(entries, [
    { place: global, position: 1, value: 'a' },
    { place: global, position: 3, value: 'b' },
    { place: group, position: 1, value: 'c' },
  ]);
});

test('withoutProxyKey drops every entry reading as the value and keeps the rest as written', () => {
  assert.deepEqual(withoutProxyKey(' a , b,,a\t, ab', 'a'), { text: ' b,, ab', removed: 2 });
  assert.deepEqual(withoutProxyKey('a', 'a'), { text: '', removed: 1 });
  assert.deepEqual(withoutProxyKey('xa,ax', 'a'), { text: 'xa,ax', removed: 0 });
  assert.deepEqual(withoutProxyKey('', 'a'), { text: '', removed: 0 });
});

test('proxyKeyValue trims as GPT-Load trims and refuses what no entry can hold, without quoting it', () => {
  assert.equal(proxyKeyValue('  sk-abc \n'), 'sk-abc');
  for (const raw of ['', ' \t ', 'sk-a,sk-b']) {
    assert.throws(
      () => proxyKeyValue(raw),
      (err: Error & { code?: string }) => err.code === 'usage' && (raw.trim() === '' || !err.message.includes(raw.trim())),
    );
  }
});
