import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectLang } from '../../server/core/lang';

test('detectLang: a given locale first, else GPT_LOAD_KEYSTORE_LANG, LC_ALL, LC_MESSAGES, LANG; zh* is zh-CN, anything else en', () => {
  assert.equal(detectLang({}), 'en');
  assert.equal(detectLang({ LANG: 'zh_CN.UTF-8' }), 'zh-CN');
  assert.equal(detectLang({ LANG: 'zh_CN.UTF-8', LC_ALL: 'C' }), 'en');
  assert.equal(detectLang({ LC_MESSAGES: 'ZH-tw', LANG: 'en_US' }), 'zh-CN');
  assert.equal(detectLang({ GPT_LOAD_KEYSTORE_LANG: 'zh-Hans', LC_ALL: 'en_US.UTF-8' }), 'zh-CN');
  // The daemon's initialize locale wins over its environment.
  assert.equal(detectLang({ LANG: 'zh_CN.UTF-8' }, 'en'), 'en');
  assert.equal(detectLang({}, 'zh-cn'), 'zh-CN');
  assert.equal(detectLang({ LANG: 'zh_CN.UTF-8' }, null), 'zh-CN');
});
