import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdminSessionBroker, isAdminOrigin } from './admin-session.ts';

test('mints once, caches, re-mints shortly before expiry; concurrent callers share a mint', async () => {
  let now = 1_000_000;
  let mints = 0;
  const broker = new AdminSessionBroker({
    mint: async () => {
      mints++;
      return { userId: '@mum:smith.family', accessToken: `t${mints}`, expiresTs: now + 10 * 60_000 };
    },
    baseUrl: () => 'http://127.0.0.1:40000',
    clock: () => now,
  });
  const [a, b] = await Promise.all([broker.get(), broker.get()]);
  assert.equal(mints, 1);
  assert.deepEqual(a, { baseUrl: 'http://127.0.0.1:40000', userId: '@mum:smith.family', accessToken: 't1', expiresTs: 1_000_000 + 600_000 });
  assert.deepEqual(b, a);
  now += 5 * 60_000;
  assert.equal((await broker.get())?.accessToken, 't1');
  now += 4 * 60_000 + 1; // inside the one-minute margin
  assert.equal((await broker.get())?.accessToken, 't2');
  broker.invalidate();
  assert.equal((await broker.get())?.accessToken, 't3');
});

test('no session before setup or while the server is down', async () => {
  let base: string | undefined;
  const broker = new AdminSessionBroker({ mint: async () => null, baseUrl: () => base });
  assert.equal(await broker.get(), null);
  base = 'http://127.0.0.1:40000';
  assert.equal(await broker.get(), null);
});

test('only the admin listener origin counts as the GUI', () => {
  assert.equal(isAdminOrigin('http://127.0.0.1:40000/_hearth/admin/setup', 'http://127.0.0.1:40000'), true);
  assert.equal(isAdminOrigin('http://127.0.0.1:40001/_hearth/admin/', 'http://127.0.0.1:40000'), false);
  assert.equal(isAdminOrigin('https://evil.example/', 'http://127.0.0.1:40000'), false);
  assert.equal(isAdminOrigin('not a url', 'http://127.0.0.1:40000'), false);
  assert.equal(isAdminOrigin('http://127.0.0.1:40000/', undefined), false);
});
