/** GPT-Load v1.4.9's MaskAPIKey / RedactSecret over a key pool (server/core/redact.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyRedactor, maskApiKey } from '../../server/core/redact';

test('maskApiKey is GPT-Load MaskAPIKey: first and last 4 bytes around ****, keys of 8 bytes or fewer as they are', () => {
  assert.equal(maskApiKey('AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY'), 'AIza****MBWY');
  assert.equal(maskApiKey('sk-proj-abc123'), 'sk-p****c123');
  assert.equal(maskApiKey('123456789'), '1234****6789');
  assert.equal(maskApiKey('12345678'), '12345678');
  assert.equal(maskApiKey(''), '');
});

test('a pool of keys is masked in one pass: every occurrence, the longest key where two start alike, the row\'s own key too', () => {
  const redactor = new KeyRedactor();
  for (const key of ['sk-proj-abc123', 'sk-proj-abc12345678', 'short', 'AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY']) redactor.add(key);
  assert.equal(redactor.size, 3, 'keys of 8 bytes or fewer are not looked for');
  const text = 'key=AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY; sk-proj-abc12345678 sk-proj-abc123 sk-proj-abc123, short';
  assert.deepEqual(redactor.redact(text), { text: 'key=AIza****MBWY; sk-p****5678 sk-p****c123 sk-p****c123, short', masked: 4 });
  assert.deepEqual(redactor.redact('error for row-own-key-0123 at the end', 'row-own-key-0123'), { text: 'error for row-****0123 at the end', masked: 1 });
  assert.deepEqual(redactor.redact('no key here'), { text: 'no key here', masked: 0 });
  // Keys of more than 8 bytes but fewer than 8 characters (non-ASCII) are found too.
  redactor.add('密钥一二');
  assert.equal(redactor.redact('x密钥一二x').masked, 1);
});
