/** Push rule conditions and actions (spec v1.19 "Conditions", "Actions", appendices glob and
 * dot-separated paths), using the spec's own examples where it gives them. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  compileCondition,
  compileRuleset,
  evaluatePushRules,
  globToRegExp,
  splitPropertyPath,
  stripHistoricalActions,
  type PushCondition,
  type PushContext,
  type PushRule,
} from './evaluate.ts';

const ME = '@alice:example.org';

function ctx(over: Partial<PushContext> = {}): PushContext {
  return {
    userId: ME,
    memberCount: () => 10,
    displayName: () => 'Alice',
    senderPowerLevel: () => 0,
    notificationPowerLevel: () => 50,
    ...over,
  };
}

/** Evaluates one condition through a one-rule ruleset. */
function holds(cond: PushCondition, event: Record<string, unknown>, c: PushContext = ctx()): boolean {
  const rule: PushRule = { rule_id: 'r', default: false, enabled: true, conditions: [cond], actions: ['notify'] };
  const compiled = compileRuleset({ override: [rule], content: [], room: [], sender: [], underride: [] });
  return evaluatePushRules(compiled, event, c).ruleId === 'r';
}

describe('splitPropertyPath', () => {
  it('splits on dots and unescapes \\. and \\\\ only', () => {
    assert.deepEqual(splitPropertyPath('content.body'), ['content', 'body']);
    assert.deepEqual(splitPropertyPath('content.m\\.relates_to.rel_type'), ['content', 'm.relates_to', 'rel_type']);
    assert.deepEqual(splitPropertyPath('content.m\\\\foo'), ['content', 'm\\foo']);
    assert.deepEqual(splitPropertyPath('content.a\\xb'), ['content', 'a\\xb']);
    assert.deepEqual(splitPropertyPath('type'), ['type']);
  });
});

describe('globToRegExp', () => {
  it('* matches any run, ? exactly one character; case-insensitive; whole value', () => {
    const re = globToRegExp('lunc?*');
    for (const ok of ['Lunch plans', 'LUNCH']) assert.ok(re.test(ok), ok);
    for (const no of [' lunch', 'lunc']) assert.ok(!re.test(no), no);
  });
  it('escapes regex metacharacters', () => {
    assert.ok(globToRegExp('a.b(c)[d]+$').test('a.b(c)[d]+$'));
    assert.ok(!globToRegExp('a.b').test('axb'));
  });
  it('word-boundary form for content.body', () => {
    const re = globToRegExp('ex*ple', true);
    for (const ok of ['An example event.', 'exple', 'An exciting triple-whammy']) assert.ok(re.test(ok), ok);
    assert.ok(!re.test('examples'));
    assert.ok(!globToRegExp('cake', true).test('cakes'));
    assert.ok(globToRegExp('cake', true).test('I like CAKE!'));
  });
  it('* spans newlines', () => {
    assert.ok(globToRegExp('a*b').test('a\nb'));
  });
});

describe('event_match', () => {
  const topic = (t: unknown): Record<string, unknown> => ({ type: 'm.room.topic', state_key: '', content: { topic: t } });
  const cond = { kind: 'event_match', key: 'content.topic', pattern: 'lunc?*' };
  it('the spec example', () => {
    assert.ok(holds(cond, topic('Lunch plans')));
    assert.ok(holds(cond, topic('LUNCH')));
    assert.ok(!holds(cond, topic(' lunch')));
    assert.ok(!holds(cond, topic('lunc')));
    assert.ok(!holds(cond, topic(null)));
  });
  it('absent or non-string properties never match, even with *', () => {
    const star = { kind: 'event_match', key: 'content.topic', pattern: '*' };
    assert.ok(!holds(star, { type: 'x', content: {} }));
    assert.ok(!holds(star, topic(5)));
    assert.ok(!holds(star, topic({ a: 1 })));
    assert.ok(holds(star, topic('')));
  });
  it('content.body matches at word boundaries', () => {
    const c = { kind: 'event_match', key: 'content.body', pattern: 'ex*ple' };
    assert.ok(holds(c, { content: { body: 'An example event.' } }));
    assert.ok(!holds(c, { content: { body: 'Anexample event.' } }));
  });
  it('escaped dots in keys reach dotted property names', () => {
    const c = { kind: 'event_match', key: 'content.m\\.relates_to.rel_type', pattern: 'm.thread' };
    assert.ok(holds(c, { content: { 'm.relates_to': { rel_type: 'm.thread' } } }));
    assert.ok(!holds(c, { content: { m: { relates_to: { rel_type: 'm.thread' } } } }));
  });
  it('empty pattern matches only the empty string (state_key "")', () => {
    const c = { kind: 'event_match', key: 'state_key', pattern: '' };
    assert.ok(holds(c, { state_key: '' }));
    assert.ok(!holds(c, { state_key: 'a' }));
    assert.ok(!holds(c, {}));
  });
  it('does not read inherited properties', () => {
    assert.ok(!holds({ kind: 'event_match', key: 'content.constructor', pattern: '*' }, { content: {} }));
  });
});

describe('event_property_is', () => {
  const create = (federate: unknown): Record<string, unknown> => ({ type: 'm.room.create', content: { 'm.federate': federate } });
  const c = { kind: 'event_property_is', key: 'content.m\\.federate', value: true };
  it('the spec example: exact, no casting', () => {
    assert.ok(holds(c, create(true)));
    assert.ok(!holds(c, create('true')));
    assert.ok(!holds(c, create(1)));
    assert.ok(!holds(c, { type: 'm.room.create', content: {} }));
  });
  it('null, integers and strings', () => {
    assert.ok(holds({ kind: 'event_property_is', key: 'content.x', value: null }, { content: { x: null } }));
    assert.ok(!holds({ kind: 'event_property_is', key: 'content.x', value: null }, { content: {} }));
    assert.ok(holds({ kind: 'event_property_is', key: 'content.x', value: 3 }, { content: { x: 3 } }));
    assert.ok(!holds({ kind: 'event_property_is', key: 'content.x', value: 3 }, { content: { x: 3.5 } }));
    assert.ok(holds({ kind: 'event_property_is', key: 'content.x', value: 'A' }, { content: { x: 'A' } }));
    assert.ok(!holds({ kind: 'event_property_is', key: 'content.x', value: 'A' }, { content: { x: 'a' } }));
  });
  it('compound values never match', () => {
    assert.ok(!holds({ kind: 'event_property_is', key: 'content.x', value: [1] }, { content: { x: [1] } }));
    assert.ok(!holds({ kind: 'event_property_is', key: 'content.x', value: { a: 1 } }, { content: { x: { a: 1 } } }));
  });
});

describe('event_property_contains', () => {
  const c = { kind: 'event_property_contains', key: 'content.alt_aliases', value: '#myroom:example.com' };
  const ev = (aliases: unknown): Record<string, unknown> => ({ type: 'm.room.canonical_alias', content: { alt_aliases: aliases } });
  it('the spec example', () => {
    assert.ok(holds(c, ev(['#somewhere:example.org', '#myroom:example.com'])));
    assert.ok(!holds(c, ev([':example.com'])));
    assert.ok(!holds(c, ev('#myroom:example.com')));
    assert.ok(!holds(c, { content: {} }));
  });
  it('ignores compound array members and does not cast', () => {
    assert.ok(!holds({ kind: 'event_property_contains', key: 'content.a', value: 1 }, { content: { a: ['1', [1], { x: 1 }] } }));
    assert.ok(holds({ kind: 'event_property_contains', key: 'content.a', value: false }, { content: { a: [[false], false] } }));
  });
});

describe('contains_display_name', () => {
  const c = { kind: 'contains_display_name' };
  it('matches the display name as a whole word, case-insensitively', () => {
    assert.ok(holds(c, { content: { body: 'hey alice, lunch?' } }));
    assert.ok(!holds(c, { content: { body: 'hey alicex' } }));
    assert.ok(!holds(c, { content: { body: 5 } }));
  });
  it('treats regex characters in the name literally; no name never matches', () => {
    assert.ok(holds(c, { content: { body: 'ping a.b*c now' } }, ctx({ displayName: () => 'a.b*c' })));
    assert.ok(!holds(c, { content: { body: 'ping axbbc now' } }, ctx({ displayName: () => 'a.b*c' })));
    assert.ok(!holds(c, { content: { body: 'anything' } }, ctx({ displayName: () => null })));
    assert.ok(!holds(c, { content: { body: 'anything' } }, ctx({ displayName: () => '' })));
  });
});

describe('room_member_count', () => {
  const table: [string, number, boolean][] = [
    ['2', 2, true],
    ['2', 3, false],
    ['==2', 2, true],
    ['<10', 9, true],
    ['<10', 10, false],
    ['>10', 11, true],
    ['>10', 10, false],
    ['<=10', 10, true],
    ['<=10', 11, false],
    ['>=10', 10, true],
    ['>=10', 9, false],
    ['=2', 2, false],
    ['two', 2, false],
    ['', 0, false],
  ];
  for (const [is, n, want] of table) {
    it(`is "${is}" with ${n} members → ${want}`, () => {
      assert.equal(holds({ kind: 'room_member_count', is }, {}, ctx({ memberCount: () => n })), want);
    });
  }
});

describe('sender_notification_permission', () => {
  it('compares the sender level with notifications[key]', () => {
    const c = { kind: 'sender_notification_permission', key: 'room' };
    assert.ok(holds(c, {}, ctx({ senderPowerLevel: () => 50 })));
    assert.ok(!holds(c, {}, ctx({ senderPowerLevel: () => 49 })));
    assert.ok(!holds({ kind: 'sender_notification_permission' }, {}, ctx({ senderPowerLevel: () => 100 })));
  });
});

describe('unknown and malformed conditions never match', () => {
  for (const cond of [
    { kind: 'org.example.unknown' },
    { kind: 'event_match', key: 'type' },
    { kind: 'event_match', pattern: '*' },
    { kind: 'event_property_is', key: 'content.x' },
  ] as PushCondition[]) {
    it(JSON.stringify(cond), () => {
      assert.equal(compileCondition(cond)({ type: 'x', content: { x: 1 } }, undefined as never), false);
    });
  }
  it('a rule with no conditions always matches', () => {
    assert.ok(
      evaluatePushRules(
        compileRuleset({ override: [{ rule_id: 'all', default: false, enabled: true, conditions: [], actions: [] }], content: [], room: [], sender: [], underride: [] }),
        { type: 'anything' },
        ctx(),
      ).ruleId === 'all',
    );
  });
});

describe('actions', () => {
  const run = (actions: PushRule['actions']) =>
    evaluatePushRules(
      compileRuleset({ override: [{ rule_id: 'r', default: false, enabled: true, actions }], content: [], room: [], sender: [], underride: [] }),
      {},
      ctx(),
    );
  it('dont_notify and coalesce are ignored', () => {
    assert.deepEqual(stripHistoricalActions(['dont_notify', 'coalesce', 'notify']), ['notify']);
    assert.deepEqual(run(['dont_notify']), { notify: false, highlight: false, tweaks: {}, actions: [], ruleId: 'r', kind: 'override' });
    assert.equal(run(['coalesce', 'notify']).notify, true);
  });
  it('highlight without value is true; explicit false is false; other tweaks pass through', () => {
    assert.equal(run(['notify', { set_tweak: 'highlight' }]).highlight, true);
    assert.equal(run(['notify', { set_tweak: 'highlight', value: false }]).highlight, false);
    assert.deepEqual(run(['notify', { set_tweak: 'sound', value: 'bing' }, { set_tweak: 'org.example.led', value: 'red' }]).tweaks, {
      sound: 'bing',
      'org.example.led': 'red',
    });
  });
  it('verdicts are frozen so a shared verdict cannot be changed by one caller', () => {
    const v = run(['notify', { set_tweak: 'sound', value: 'x' }]);
    assert.ok(Object.isFrozen(v) && Object.isFrozen(v.tweaks) && Object.isFrozen(v.actions));
  });
});
