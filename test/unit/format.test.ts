import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asSentence, formatAgo, formatCount, formatNumber, pluralTemplate } from '../../shared/format';

const KEY = { one: 'key', other: 'keys', zh: '个密钥' };

test('numbers are grouped as each language writes them', () => {
  assert.equal(formatNumber(1108), '1,108');
  assert.equal(formatNumber(1108, 'zh-CN'), '1,108');
  assert.equal(formatNumber(1_000_000, 'en'), '1,000,000');
  assert.equal(formatNumber(0, 'zh-CN'), '0');
});

test('English counts take the singular for one and the plural otherwise; Chinese uses its measure word', () => {
  assert.equal(formatCount(1, KEY), '1 key');
  assert.equal(formatCount(0, KEY), '0 keys');
  assert.equal(formatCount(2, KEY), '2 keys');
  assert.equal(formatCount(1108, KEY), '1,108 keys');
  assert.equal(formatCount(1, KEY, 'zh-CN'), '1 个密钥');
  assert.equal(formatCount(1108, KEY, 'zh-CN'), '1,108 个密钥');
  assert.equal(pluralTemplate(1, '{0} failure', '{0} failures'), '{0} failure');
  assert.equal(pluralTemplate(3, '{0} failure', '{0} failures'), '{0} failures');
});

test('ages read naturally in both languages (no "1 min前")', () => {
  assert.equal(formatAgo(60_000), '1 minute ago');
  assert.equal(formatAgo(5 * 60_000), '5 minutes ago');
  assert.equal(formatAgo(60_000, 'zh-CN'), '1分钟前');
  assert.equal(formatAgo(3 * 3_600_000), '3 hours ago');
  assert.equal(formatAgo(3 * 3_600_000, 'zh-CN'), '3小时前');
  assert.equal(formatAgo(3 * 86_400_000), '3 days ago');
  assert.equal(formatAgo(3 * 86_400_000, 'zh-CN'), '3天前');
});

test('notes become sentences in a message: capital first letter, a final stop in either language', () => {
  assert.equal(asSentence('completed the interrupted run of today'), 'Completed the interrupted run of today.');
  assert.equal(asSentence('Already a sentence.'), 'Already a sentence.');
  assert.equal(asSentence('已完成那次中断的运行'), '已完成那次中断的运行。');
  assert.equal(asSentence('已完成。'), '已完成。');
  assert.equal(asSentence('  '), '');
});
