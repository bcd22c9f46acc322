// Unit tests for the pure-ish pieces of services/users: password hashing, the token bucket and
// the UIA engine (flow ordering, stage errors, expiry releasing what a session held).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MatrixError } from '../../errors.ts';
import { PasswordHasher } from './passwords.ts';
import { RateLimiter } from './rate-limit.ts';
import { UserInteractiveAuth } from './uia.ts';

describe('PasswordHasher', () => {
  it('hashes with the production cost and verifies in either direction', async () => {
    const h = new PasswordHasher();
    const rec = await h.hash('hunter2');
    assert.match(rec, /^scrypt\$15\$8\$1\$/);
    assert.equal(await h.verify('hunter2', rec), true);
    assert.equal(await h.verify('hunter3', rec), false);
    assert.notEqual(await h.hash('hunter2'), rec, 'salted');
  });

  it('verifies records made with other parameters and rejects null or junk', async () => {
    const rec = await new PasswordHasher({ log2N: 10, r: 8, p: 1 }).hash('pw');
    const h = new PasswordHasher();
    assert.equal(await h.verify('pw', rec), true);
    assert.equal(await h.verify('pw', null), false);
    assert.equal(await h.verify('pw', 'plain'), false);
  });
});

describe('RateLimiter', () => {
  it('allows a burst, then refills at the configured rate', () => {
    let now = 0;
    const rl = new RateLimiter({ burst: 2, perSecond: 1 }, () => now);
    assert.equal(rl.take('a').ok, true);
    assert.equal(rl.take('a').ok, true);
    const r = rl.take('a');
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.retryAfterMs, 1000);
    assert.equal(rl.take('b').ok, true, 'keys are independent');
    now = 1000;
    assert.equal(rl.take('a').ok, true);
    assert.throws(() => rl.check('a'), (e: unknown) => e instanceof MatrixError && e.status === 429);
  });

  it('takes from no bucket when any key is exhausted', () => {
    const rl = new RateLimiter({ burst: 1, perSecond: 1 }, () => 0);
    assert.equal(rl.take('ip', 'user1').ok, true);
    assert.equal(rl.take('ip', 'user2').ok, false);
    assert.equal(rl.take('user2').ok, true, 'user2 was not charged');
  });
});

describe('UserInteractiveAuth', () => {
  const flows = [{ stages: ['x.a', 'x.b'] }, { stages: ['m.login.dummy'] }];

  async function challenge(p: Promise<unknown>): Promise<Record<string, any>> {
    try {
      await p;
    } catch (e) {
      assert.ok(e instanceof MatrixError);
      assert.equal(e.status, 401);
      return e.toJSON();
    }
    assert.fail('expected a 401');
  }

  it('requires stages in flow order and completes a flow', async () => {
    const uia = new UserInteractiveAuth({ clock: () => 0 });
    uia.registerStage('x.a', { check: () => true, params: () => ({ key: 'value' }) });
    uia.registerStage('x.b', { check: (auth) => auth.answer === 42 || Promise.reject(new MatrixError(401, 'M_FORBIDDEN', 'wrong answer')) });
    const c = await challenge(uia.authenticate({ op: 'op', flows, auth: undefined }));
    assert.deepEqual(c.flows, flows);
    assert.deepEqual(c.params, { 'x.a': { key: 'value' } });
    assert.equal(c.errcode, undefined);
    const session = c.session as string;
    const outOfOrder = await challenge(uia.authenticate({ op: 'op', flows, auth: { type: 'x.b', session, answer: 42 } }));
    assert.equal(outOfOrder.errcode, 'M_UNRECOGNIZED');
    const afterA = await challenge(uia.authenticate({ op: 'op', flows, auth: { type: 'x.a', session } }));
    assert.deepEqual(afterA.completed, ['x.a']);
    const wrong = await challenge(uia.authenticate({ op: 'op', flows, auth: { type: 'x.b', session, answer: 1 } }));
    assert.deepEqual([wrong.errcode, wrong.error, wrong.completed], ['M_FORBIDDEN', 'wrong answer', ['x.a']]);
    const done = await uia.authenticate({ op: 'op', flows, auth: { type: 'x.b', session, answer: 42 } });
    assert.deepEqual(done.completed, ['x.a', 'x.b']);
    // Retrying a completed stage returns the completed session again until finished.
    assert.equal((await uia.authenticate({ op: 'op', flows, auth: { type: 'x.b', session } })).id, session);
    uia.finish(done);
    await assert.rejects(uia.authenticate({ op: 'op', flows, auth: { session } }), (e: unknown) => e instanceof MatrixError && e.status === 400);
    uia.close();
  });

  it('expires sessions and lets stages release what they held', async () => {
    let now = 0;
    const released: string[] = [];
    const uia = new UserInteractiveAuth({ clock: () => now, sessionTtlMs: 1000 });
    uia.registerStage('x.a', { check: () => true, onAbandon: (s) => released.push(s.id) });
    const c = await challenge(uia.authenticate({ op: 'op', flows, auth: undefined }));
    await challenge(uia.authenticate({ op: 'op', flows, auth: { type: 'x.a', session: c.session } }));
    now = 2000;
    uia.expire();
    assert.deepEqual(released, [c.session]);
    uia.close();
  });
});
