// Accounts survive a restart: users, tokens and batched last-seen data are durable, and pending
// registration-token uses (held by in-memory UIA sessions) are reset.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bus } from '../services/bus.ts';
import { createUserServices } from '../services/users/user-services.ts';
import { openSqlJsDatabase } from '../storage/sqljs/open.ts';
import { createSqlJsUsersStore } from '../storage/sqljs/users.ts';

it('keeps accounts and sessions across a restart', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-accounts-restart-'));
  try {
    const open = async () => {
      const db = await openSqlJsDatabase({ dataDir });
      const services = await createUserServices({ store: createSqlJsUsersStore(db), serverName: 'localhost', bus: new Bus(), scrypt: { log2N: 10, r: 8, p: 1 } });
      return { db, services };
    };
    let { db, services } = await open();
    const reg = await services.registration.register(
      { username: 'kim', password: 'kim-pw', inhibitLogin: false, refreshToken: false, auth: { type: 'm.login.dummy' } },
      'open',
    );
    await services.store.createRegistrationToken({ token: 'held', usesAllowed: 1, expiryTime: null });
    assert.equal(await services.store.reserveRegistrationToken('held', Date.now()), true);
    await services.tokens.resolve(reg.access_token!, { ip: '10.0.0.7', userAgent: 'test' });
    await services.close();
    await db.close();

    ({ db, services } = await open());
    const me = await services.tokens.resolve(reg.access_token!, { ip: '10.0.0.8' });
    assert.deepEqual([me.userId, me.deviceId], ['@kim:localhost', reg.device_id]);
    const device = services.store.getDevice('@kim:localhost', reg.device_id!)!;
    assert.equal(device.lastSeenIp, '10.0.0.7');
    assert.equal(device.lastSeenUserAgent, 'test');
    assert.equal(services.store.getRegistrationToken('held')!.pending, 0);
    const login = await services.accounts.login({ user: 'kim', password: 'kim-pw', refreshToken: false });
    assert.equal(login.user_id, '@kim:localhost');
    await services.close();
    await db.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
