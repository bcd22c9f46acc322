/** The spec's default push rules (v1.19 "Predefined Rules"): each fires on a matching event and
 * not on a near miss, in the spec's order, and user rules merge around them correctly. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultRuleset, mergeRuleset } from './default-rules.ts';
import { compileRuleset, evaluatePushRules, type PushContext, type PushRule, type PushRuleset, type RuleKind } from './evaluate.ts';

const ME = '@alice:example.org';
const OTHER = '@bob:example.org';
const ROOM = '!room:example.org';

function ctx(over: Partial<PushContext> = {}): PushContext {
  return {
    userId: ME,
    memberCount: () => 5,
    displayName: () => 'Alice',
    senderPowerLevel: () => 0,
    notificationPowerLevel: (key) => (key === 'room' ? 50 : 50),
    ...over,
  };
}

const msg = (content: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  type: 'm.room.message',
  room_id: ROOM,
  sender: OTHER,
  event_id: '$e',
  content: { msgtype: 'm.text', body: 'hello', ...content },
  ...extra,
});

const compiledDefaults = compileRuleset(
  mergeRuleset(ME, { override: [], content: [], room: [], sender: [], underride: [] }, new Map()),
);
const evalDefault = (event: Record<string, unknown>, c: PushContext = ctx()) => evaluatePushRules(compiledDefaults, event, c);

describe('default ruleset', () => {
  it('lists exactly the v1.19 rules in the spec order', () => {
    const rs = defaultRuleset(ME);
    assert.deepEqual(
      rs.override.map((r) => r.rule_id),
      [
        '.m.rule.master',
        '.m.rule.suppress_notices',
        '.m.rule.invite_for_me',
        '.m.rule.member_event',
        '.m.rule.is_user_mention',
        '.m.rule.is_room_mention',
        '.m.rule.tombstone',
        '.m.rule.reaction',
        '.m.rule.room.server_acl',
        '.m.rule.suppress_edits',
      ],
    );
    assert.deepEqual(rs.content, []);
    assert.deepEqual(rs.room, []);
    assert.deepEqual(rs.sender, []);
    assert.deepEqual(
      rs.underride.map((r) => r.rule_id),
      ['.m.rule.call', '.m.rule.encrypted_room_one_to_one', '.m.rule.room_one_to_one', '.m.rule.message', '.m.rule.encrypted'],
    );
    for (const kind of ['override', 'underride'] as const) {
      for (const r of rs[kind]) {
        assert.equal(r.default, true);
        assert.equal(r.enabled, r.rule_id !== '.m.rule.master');
      }
    }
  });

  it('fills the user id into invite_for_me and is_user_mention', () => {
    const rs = defaultRuleset(ME);
    const invite = rs.override.find((r) => r.rule_id === '.m.rule.invite_for_me')!;
    assert.deepEqual(invite.conditions![2], { key: 'state_key', kind: 'event_match', pattern: ME });
    const mention = rs.override.find((r) => r.rule_id === '.m.rule.is_user_mention')!;
    assert.deepEqual(mention.conditions![0], { kind: 'event_property_contains', key: 'content.m\\.mentions.user_ids', value: ME });
  });

  it('.m.rule.master is disabled by default and, when enabled, silences everything', () => {
    const rs = mergeRuleset(
      ME,
      { override: [{ rule_id: 'mine', default: false, enabled: true, conditions: [], actions: ['notify'] }], content: [], room: [], sender: [], underride: [] },
      new Map([['override/.m.rule.master', { enabled: true }]]),
    );
    assert.equal(rs.override[0]!.rule_id, '.m.rule.master');
    assert.equal(rs.override[1]!.rule_id, 'mine');
    const v = evaluatePushRules(compileRuleset(rs), msg({}), ctx());
    assert.equal(v.ruleId, '.m.rule.master');
    assert.equal(v.notify, false);
  });

  // [rule that must match, matching event, near miss that must not be decided by that rule]
  const cases: [string, Record<string, unknown>, Record<string, unknown>, Partial<PushContext>?][] = [
    ['.m.rule.suppress_notices', msg({ msgtype: 'm.notice' }), msg({ msgtype: 'm.noticeX' })],
    [
      '.m.rule.invite_for_me',
      { type: 'm.room.member', state_key: ME, sender: OTHER, room_id: ROOM, content: { membership: 'invite' } },
      { type: 'm.room.member', state_key: '@carol:example.org', sender: OTHER, room_id: ROOM, content: { membership: 'invite' } },
    ],
    [
      '.m.rule.member_event',
      { type: 'm.room.member', state_key: OTHER, sender: OTHER, room_id: ROOM, content: { membership: 'join' } },
      { type: 'm.room.membership', state_key: OTHER, sender: OTHER, room_id: ROOM, content: { membership: 'join' } },
    ],
    [
      '.m.rule.is_user_mention',
      msg({ body: 'hi', 'm.mentions': { user_ids: [OTHER, ME] } }),
      msg({ body: 'hi', 'm.mentions': { user_ids: ['@alice:example.org2'] } }),
    ],
    [
      '.m.rule.is_room_mention',
      msg({ body: '@room', 'm.mentions': { room: true } }),
      msg({ body: '@room', 'm.mentions': { room: 'true' } }),
      { senderPowerLevel: () => 50 },
    ],
    [
      '.m.rule.tombstone',
      { type: 'm.room.tombstone', state_key: '', sender: OTHER, room_id: ROOM, content: { body: 'moved', replacement_room: '!n:x' } },
      { type: 'm.room.tombstone', sender: OTHER, room_id: ROOM, content: { body: 'moved', replacement_room: '!n:x' } },
    ],
    [
      '.m.rule.reaction',
      { type: 'm.reaction', sender: OTHER, room_id: ROOM, content: { 'm.relates_to': { rel_type: 'm.annotation', event_id: '$x', key: '👍' } } },
      { type: 'm.reactions', sender: OTHER, room_id: ROOM, content: {} },
    ],
    [
      '.m.rule.room.server_acl',
      { type: 'm.room.server_acl', state_key: '', sender: OTHER, room_id: ROOM, content: { allow: ['*'] } },
      { type: 'm.room.server_acl', state_key: 'x', sender: OTHER, room_id: ROOM, content: { allow: ['*'] } },
    ],
    [
      '.m.rule.suppress_edits',
      msg({ body: '* fixed', 'm.relates_to': { rel_type: 'm.replace', event_id: '$x' } }),
      msg({ body: 'reply', 'm.relates_to': { rel_type: 'm.thread', event_id: '$x' } }),
    ],
    [
      '.m.rule.call',
      { type: 'm.call.invite', sender: OTHER, room_id: ROOM, content: { call_id: '1' } },
      { type: 'm.call.answer', sender: OTHER, room_id: ROOM, content: { call_id: '1' } },
    ],
    [
      '.m.rule.encrypted_room_one_to_one',
      { type: 'm.room.encrypted', sender: OTHER, room_id: ROOM, content: { algorithm: 'm.megolm.v1.aes-sha2' } },
      { type: 'm.room.encrypted', sender: OTHER, room_id: ROOM, content: { algorithm: 'm.megolm.v1.aes-sha2' } },
      { memberCount: () => 2 },
    ],
    ['.m.rule.room_one_to_one', msg({}), msg({}), { memberCount: () => 2 }],
    ['.m.rule.message', msg({}), { type: 'm.room.messages', sender: OTHER, room_id: ROOM, content: { body: 'x' } }],
    [
      '.m.rule.encrypted',
      { type: 'm.room.encrypted', sender: OTHER, room_id: ROOM, content: {} },
      { type: 'm.room.encrypted.x', sender: OTHER, room_id: ROOM, content: {} },
    ],
  ];

  for (const [ruleId, hit, miss, over] of cases) {
    it(`${ruleId} fires on a matching event and not on a near miss`, () => {
      assert.equal(evalDefault(hit, ctx(over)).ruleId, ruleId);
      // For the member-count rules the near miss is the same event in a bigger room.
      const missCtx = ruleId.includes('one_to_one') ? ctx({ memberCount: () => 3 }) : ctx(over);
      assert.notEqual(evalDefault(miss, missCtx).ruleId, ruleId);
    });
  }

  it('actions and tweaks of the defaults', () => {
    const mention = evalDefault(msg({ 'm.mentions': { user_ids: [ME] } }));
    assert.deepEqual(mention, {
      notify: true,
      highlight: true,
      tweaks: { sound: 'default', highlight: true },
      actions: ['notify', { set_tweak: 'sound', value: 'default' }, { set_tweak: 'highlight' }],
      ruleId: '.m.rule.is_user_mention',
      kind: 'override',
    });
    const plain = evalDefault(msg({}));
    assert.equal(plain.notify, true);
    assert.equal(plain.highlight, false);
    assert.deepEqual(plain.tweaks, {});
    const call = evalDefault({ type: 'm.call.invite', sender: OTHER, room_id: ROOM, content: {} });
    assert.deepEqual(call.tweaks, { sound: 'ring' });
    const notice = evalDefault(msg({ msgtype: 'm.notice' }));
    assert.equal(notice.notify, false);
    // Unmatched: a state event nobody has a rule for.
    const topic = evalDefault({ type: 'm.room.topic', state_key: '', sender: OTHER, room_id: ROOM, content: { topic: 'x' } });
    assert.equal(topic.ruleId, null);
    assert.equal(topic.notify, false);
  });

  it('.m.rule.is_room_mention needs the sender to have the notifications.room power level', () => {
    const ev = msg({ body: '@room', 'm.mentions': { room: true } });
    assert.equal(evalDefault(ev, ctx({ senderPowerLevel: () => 49 })).ruleId, '.m.rule.message');
    assert.equal(evalDefault(ev, ctx({ senderPowerLevel: () => 50 })).ruleId, '.m.rule.is_room_mention');
    assert.equal(evalDefault(ev, ctx({ senderPowerLevel: () => 0, notificationPowerLevel: () => 0 })).ruleId, '.m.rule.is_room_mention');
  });

  it('body mentions alone no longer highlight (legacy mention rules removed in v1.17)', () => {
    const v = evalDefault(msg({ body: 'Alice: @alice:example.org @room' }));
    assert.equal(v.ruleId, '.m.rule.message');
    assert.equal(v.highlight, false);
  });
});

describe('mergeRuleset and kind order', () => {
  const none = (): Record<RuleKind, PushRule[]> => ({ override: [], content: [], room: [], sender: [], underride: [] });
  const rule = (rule_id: string, actions: PushRule['actions'], extra: Partial<PushRule> = {}): PushRule => ({
    rule_id,
    default: false,
    enabled: true,
    actions,
    ...extra,
  });

  it('user rules of a kind come before that kind\'s defaults', () => {
    const u = none();
    u.override.push(rule('o1', []));
    u.underride.push(rule('u1', []));
    const rs = mergeRuleset(ME, u, new Map());
    assert.deepEqual(rs.override.slice(0, 3).map((r) => r.rule_id), ['.m.rule.master', 'o1', '.m.rule.suppress_notices']);
    assert.equal(rs.underride[0]!.rule_id, 'u1');
  });

  it('override > content > room > sender > underride', () => {
    const ev = msg({ body: 'time for cake' });
    const build = (kinds: RuleKind[]): PushRuleset => {
      const u = none();
      for (const k of kinds) {
        const tag = { set_tweak: 'which', value: k };
        if (k === 'override' || k === 'underride') u[k].push(rule(`r-${k}`, ['notify', tag], { conditions: [{ kind: 'event_match', key: 'type', pattern: 'm.room.message' }] }));
        if (k === 'content') u.content.push(rule('r-content', ['notify', tag], { pattern: 'cake' }));
        if (k === 'room') u.room.push(rule(ROOM, ['notify', tag]));
        if (k === 'sender') u.sender.push(rule(OTHER, ['notify', tag]));
      }
      return mergeRuleset(ME, u, new Map());
    };
    const order: RuleKind[] = ['override', 'content', 'room', 'sender', 'underride'];
    for (let i = 0; i < order.length; i++) {
      const v = evaluatePushRules(compileRuleset(build(order.slice(i))), ev, ctx());
      assert.equal(v.tweaks.which, order[i], `with ${order.slice(i).join(',')}`);
    }
  });

  it('a user rule with empty actions silences a message that defaults would notify', () => {
    const u = none();
    u.room.push(rule(ROOM, []));
    const v = evaluatePushRules(compileRuleset(mergeRuleset(ME, u, new Map())), msg({}), ctx());
    assert.equal(v.ruleId, ROOM);
    assert.equal(v.notify, false);
  });

  it('disabled rules are skipped, user and default alike', () => {
    const u = none();
    u.sender.push(rule(OTHER, [], { enabled: false }));
    const overrides = new Map([['underride/.m.rule.message', { enabled: false }]]);
    const v = evaluatePushRules(compileRuleset(mergeRuleset(ME, u, overrides)), msg({}), ctx());
    assert.equal(v.ruleId, null);
  });

  it('actions of a default rule can be replaced', () => {
    const overrides = new Map([['underride/.m.rule.message', { actions: ['notify', { set_tweak: 'sound', value: 'bing' }] }]]);
    const rs = mergeRuleset(ME, none(), overrides);
    const m = rs.underride.find((r) => r.rule_id === '.m.rule.message')!;
    assert.equal(m.default, true);
    const v = evaluatePushRules(compileRuleset(rs), msg({}), ctx());
    assert.deepEqual(v.tweaks, { sound: 'bing' });
  });

  it('within a kind the first (most important) user rule wins', () => {
    const u = none();
    u.content.push(rule('first', ['notify', { set_tweak: 'n', value: 1 }], { pattern: 'tea' }));
    u.content.push(rule('second', ['notify', { set_tweak: 'n', value: 2 }], { pattern: 'time' }));
    const v = evaluatePushRules(compileRuleset(mergeRuleset(ME, u, new Map())), msg({ body: "It's time for tea" }), ctx());
    assert.equal(v.ruleId, 'first');
  });
});
