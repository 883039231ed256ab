/**
 * REDIS_DSN as go-redis reads it: unix://[user:password@]/path/to/socket?db=N reaches Redis over a
 * Unix socket (here a socket forwarding to the test Redis), its database honoured; --redis-host
 * switches such a DSN to TCP; a DSN of another scheme is a usage error naming the accepted ones.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRedis, clearStaleCache, describeRedis } from '../../server/keystore/cache';
import { KeystoreError } from '../../server/core/errors';
import { redisServer } from '../support/services';

test('REDIS_DSN unix:// connects through the socket with its db, as go-redis does; --redis-host switches to TCP', async (t) => {
  const server = await redisServer(t);
  if (!server) return;
  const dir = mkdtempSync(join(tmpdir(), 'glk-redis-'));
  const socket = join(dir, 'redis.sock');
  const relay = createServer((client) => {
    const upstream = connect(server.port, server.host);
    client.pipe(upstream).pipe(client);
    const end = () => (client.destroy(), upstream.destroy());
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => relay.listen(socket, resolve));
  t.after(() => {
    relay.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const Redis = (require('ioredis') as typeof import('ioredis')).default;
  // An empty database of its own: clearing must only touch GPT-Load's stale entries there.
  let db = -1;
  for (const candidate of [15, 14, 13, 12, 11, 10]) {
    const probe = new Redis({ host: server.host, port: server.port, password: server.password || undefined, db: candidate, lazyConnect: true });
    await probe.connect();
    const empty = (await probe.dbsize()) === 0;
    if (empty) {
      db = candidate;
      await probe.set('gpt-load:key:7', 'stale');
      await probe.set('request_log:keep', 'kept');
      t.after(async () => {
        await probe.flushdb();
        await probe.quit();
      });
      break;
    }
    await probe.quit();
  }
  assert.ok(db >= 0, 'an empty Redis database among 10–15');

  const auth = server.password ? `:${encodeURIComponent(server.password)}@` : '';
  const dsn = `unix://${auth}${socket}?db=${db}`;
  assert.equal(describeRedis(dsn), `redis unix:${socket}/${db}`);
  await checkRedis(dsn, { timeoutMs: 3000 });
  assert.deepEqual(await clearStaleCache(dsn, { timeoutMs: 3000 }), { removed: 1, keyEntries: 1, groupLists: 0 });

  // --redis-host: the container's socket does not exist outside; TCP there instead, same database.
  assert.equal(describeRedis(`unix:///var/run/redis/redis.sock?db=${db}`, { redisHost: `${server.host}:${server.port}` }), `redis ${server.host}:${server.port}/${db}`);
  await checkRedis(`unix://${auth}/nonexistent/redis.sock?db=${db}`, { timeoutMs: 3000, redisHost: `${server.host}:${server.port}` });

  assert.throws(() => describeRedis('memcached://x'), (err: unknown) => err instanceof KeystoreError && /redis:\/\/, rediss:\/\/ or unix:\/\//.test(err.text.en));
});
