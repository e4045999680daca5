import { describe, expect, it } from 'vitest';
import { isEventLogError, type ValidationError } from '../errors.js';
import { createFastEnvelope } from './envelope.js';
import { createEventNormalizer } from './event.js';
import { EVENT_TYPE_NAME } from './event-type.js';
import { STRING_FIELDS } from './fields.js';
import { createRegistry } from './registry.js';

// The hand-written envelope check must never accept what zod rejects, and must convert values the
// way zod does. Every input below goes through a normaliser with the fast check and one without;
// both must store the same row or fail with the same issues.

const registry = createRegistry({
  allowUnknownTypes: true,
  dimensions: [{ name: 'model' }, { name: 'channel', type: 'integer' }],
  metrics: [{ name: 'tokens' }, { name: 'cost', type: 'float' }],
});
const clock = () => 1_700_000_000_000;
const fast = createEventNormalizer(registry, clock);
const zodOnly = createEventNormalizer(registry, clock, { fastEnvelope: false });

function outcome(normalize: typeof fast, input: unknown) {
  try {
    return { row: normalize(input, 3).row };
  } catch (error) {
    if (!isEventLogError(error, 'VALIDATION_FAILED')) throw error;
    return { issues: (error as ValidationError).issues };
  }
}

class Custom {
  type = 'a';
}
const inherited = Object.assign(Object.create({ extra: 1 }), { type: 'a' });
const nullProto = Object.assign(Object.create(null), { type: 'a', message: 'x' });

const inputs: [string, unknown][] = [
  ['minimal', { type: 'a' }],
  ['full', { type: 'a.b:c-d', time: 5, category: 'c', action: 'x', outcome: 'ok', severity: 'warn', message: 'm', tenantId: 't' }],
  ['numbers for text', { type: 'a', tenantId: 42, actorId: -0, ip: 1.5, sessionId: 1e21 }],
  ['non-finite number for text', { type: 'a', tenantId: Number.POSITIVE_INFINITY }],
  ['NaN for text', { type: 'a', tenantId: Number.NaN }],
  ['boolean for text', { type: 'a', tenantId: true }],
  ['text at the limit', { type: 'a', severity: 'x'.repeat(16) }],
  ['text over the limit', { type: 'a', severity: 'x'.repeat(17) }],
  ['surrogate pairs count twice', { type: 'a', severity: '😀'.repeat(9) }],
  ['null fields', { type: 'a', category: null, actor: null, target: null, durationMs: null, message: null }],
  ['undefined fields', { type: 'a', category: undefined, time: undefined, dimensions: undefined, metrics: undefined }],
  ['missing type', { message: 'x' }],
  ['type number', { type: 5 }],
  ['type with space', { type: 'a b' }],
  ['type too long', { type: `a${'b'.repeat(128)}` }],
  ['unknown key', { type: 'a', colour: 'red' }],
  ['prototype key', { type: 'a', toString: 'x' }],
  ['constructor key', { type: 'a', constructor: 'x' }],
  ['__proto__ own key', JSON.parse('{"type":"a","__proto__":{"x":1}}')],
  ['Date time', { type: 'a', time: new Date(1000) }],
  ['invalid Date', { type: 'a', time: new Date(Number.NaN) }],
  ['negative time', { type: 'a', time: -1 }],
  ['time past 9999', { type: 'a', time: Date.UTC(10000, 0, 1) }],
  ['time string', { type: 'a', time: '2020-01-01' }],
  ['time null', { type: 'a', time: null }],
  ['fractional time', { type: 'a', time: 1.6 }],
  ['message number', { type: 'a', message: 5 }],
  ['message too long', { type: 'a', message: 'x'.repeat(64 * 1024 + 1) }],
  ['actor nested', { type: 'a', actor: { id: 7, type: 'user', name: 'Ann' } }],
  ['actor nested beats flat', { type: 'a', actor: { id: 'n' }, actorId: 'flat', actorName: 'flat name' }],
  ['actor unknown key', { type: 'a', actor: { id: 1, role: 'x' } }],
  ['actor array', { type: 'a', actor: [] }],
  ['target string', { type: 'a', target: 'x' }],
  ['target class instance', { type: 'a', target: new Custom() }],
  ['durationMs negative', { type: 'a', durationMs: -1 }],
  ['durationMs string', { type: 'a', durationMs: '5' }],
  ['dimensions ok', { type: 'a', dimensions: { model: 'gpt', channel: 3 } }],
  ['dimension number for string', { type: 'a', dimensions: { model: 12 } }],
  ['dimension too long', { type: 'a', dimensions: { model: 'x'.repeat(256) } }],
  ['dimension fractional int', { type: 'a', dimensions: { channel: 1.5 } }],
  ['dimension unsafe int', { type: 'a', dimensions: { channel: 2 ** 53 } }],
  ['dimension unknown', { type: 'a', dimensions: { other: 'x' } }],
  ['dimensions null', { type: 'a', dimensions: null }],
  ['metrics ok', { type: 'a', metrics: { tokens: 10, cost: 0.25 } }],
  ['metric int fractional', { type: 'a', metrics: { tokens: 0.5 } }],
  ['metric infinite', { type: 'a', metrics: { cost: Number.POSITIVE_INFINITY } }],
  ['metric string', { type: 'a', metrics: { cost: '1' } }],
  ['metric null', { type: 'a', metrics: { cost: null, tokens: undefined } }],
  ['metric unknown', { type: 'a', metrics: { bytes: 1 } }],
  ['data anything', { type: 'a', data: { nested: [1, 'two', null] } }],
  ['class instance event', new Custom()],
  ['inherited enumerable key', inherited],
  ['null-prototype event', nullProto],
  ['array', [{ type: 'a' }]],
  ['null', null],
  ['string', 'a'],
  ['Map', new Map([['type', 'a']])],
];

describe('fast envelope check', () => {
  it.each(inputs)('%s: same row or same issues as zod alone', (_name, input) => {
    expect(outcome(fast, input)).toEqual(outcome(zodOnly, input));
  });

  it('vouches for the common valid shapes itself, so they skip zod', () => {
    const check = createFastEnvelope({
      registry,
      stringFields: STRING_FIELDS,
      typePattern: EVENT_TYPE_NAME,
      maxTime: 1e15,
      maxMessage: 10,
    });
    const common = ['minimal', 'full', 'numbers for text', 'Date time', 'actor nested', 'dimensions ok', 'metrics ok', 'data anything'];
    for (const [name, input] of inputs.filter(([n]) => common.includes(n))) expect(check(input), name).toBeDefined();
    expect(check({ type: 'a', colour: 'red' })).toBeUndefined();
  });

  it('returns the validated data next to the row', () => {
    const { row, data } = fast({ type: 'a', data: { n: 1 } });
    expect(data).toEqual({ n: 1 });
    expect(row.data).toBe('{"n":1}');
  });
});
