import { describe, expect, it } from 'vitest';
import { createRedactor, DEFAULT_REDACT_KEYS, DEFAULT_REDACT_PATTERNS, REDACTED } from './redact.js';

const defaults = createRedactor({ keys: DEFAULT_REDACT_KEYS, patterns: DEFAULT_REDACT_PATTERNS });

describe('redaction of free text with the default patterns', () => {
  it.each([
    ['login failed for alice@example.com', `login failed for ${REDACTED}`],
    ['Authorization: Bearer abcDEF123.456-xyz_789', `Authorization: Bearer ${REDACTED}`],
    ['Authorization: Basic YWxpY2U6aHVudGVyMg==', `Authorization: Basic ${REDACTED}`],
    ['GET /cb?code=1&password=hunter2&x=1', `GET /cb?code=1&password=${REDACTED}&x=1`],
    ['GET /v1/models?api_key=abc123&token=t0k', `GET /v1/models?api_key=${REDACTED}&token=${REDACTED}`],
    ['key sk-abcdefghijklmnopqrstuvwx used', `key ${REDACTED} used`],
    ['jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl seen', `jwt ${REDACTED} seen`],
    ['fetch https://bob:s3cret@db.example.com/x', `fetch https://bob:${REDACTED}@db.example.com/x`],
  ])('redacts %s', (input, expected) => {
    expect(defaults.text(input)).toBe(expected);
  });

  it('leaves ordinary prose alone', () => {
    for (const text of [
      'Basic authentication failed',
      'token expired, please sign in again',
      'monkey=3 and donkey=4',
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36',
      'prompt_tokens=12',
    ]) {
      expect(defaults.text(text)).toBe(text);
    }
  });

  it('never puts the marker between characters for patterns that can match nothing', () => {
    const redactor = createRedactor({ patterns: [/x*/] });
    expect(redactor.text('abxxc')).toBe(`ab${REDACTED}c`);
  });
});

describe('redaction of data', () => {
  it('replaces listed keys at any depth, case- and separator-insensitively, without touching the input', () => {
    const input = {
      user: { Email: 'a@b.co', name: 'Alice' },
      headers: [{ AUTHORIZATION: 'Bearer x' }, { 'Set-Cookie': 'sid=1' }],
      apiKey: 'k',
      prompt_tokens: 12,
      token_name: 'default',
      password: null,
    };
    const copy = structuredClone(input);
    const output = defaults.data(input);
    expect(output).toEqual({
      user: { Email: REDACTED, name: 'Alice' },
      headers: [{ AUTHORIZATION: REDACTED }, { 'Set-Cookie': REDACTED }],
      apiKey: REDACTED,
      prompt_tokens: 12,
      token_name: 'default',
      password: null,
    });
    expect(input).toEqual(copy);
  });

  it('returns the same payload when nothing matches', () => {
    const input = { a: 1, b: [1, { c: 'd' }] };
    expect(defaults.data(input)).toBe(input);
  });

  it('replaces paths, with * for any key or index, and the whole payload for "data"', () => {
    const redactor = createRedactor({ paths: ['data.user.email', 'data.items.*.card'] });
    expect(
      redactor.data({
        user: { email: 'a@b.co', Email: 'kept: paths are exact' },
        items: [{ card: '4111', sku: 1 }, { sku: 2 }],
        email: 'kept: not on the path',
      }),
    ).toEqual({
      user: { email: REDACTED, Email: 'kept: paths are exact' },
      items: [{ card: REDACTED, sku: 1 }, { sku: 2 }],
      email: 'kept: not on the path',
    });
    expect(createRedactor({ paths: ['data'] }).data({ anything: 1 })).toBe(REDACTED);
  });

  it('scans the strings inside data only when asked', () => {
    const input = { note: 'mail carol@example.org' };
    expect(defaults.data(input)).toBe(input);
    const scanning = createRedactor({ patterns: DEFAULT_REDACT_PATTERNS, patternFields: ['data'] });
    expect(scanning.data(input)).toEqual({ note: `mail ${REDACTED}` });
  });

  it('redacts what JSON would store for values with toJSON', () => {
    class Credentials {
      toJSON() {
        return { password: 'p' };
      }
    }
    expect(defaults.data({ login: new Credentials() })).toEqual({ login: { password: REDACTED } });
    const when = new Date(0);
    const input = { when };
    expect(defaults.data(input)).toBe(input);
  });

  it('uses a custom marker', () => {
    expect(createRedactor({ keys: ['pin'], marker: '***' }).data({ PIN: 1234 })).toEqual({ PIN: '***' });
  });

  it('refuses malformed rules at construction', () => {
    expect(() => createRedactor({ paths: ['user.email'] })).toThrow(/must be "data", a dotted path/);
    expect(() => createRedactor({ paths: ['data..x'] })).toThrow(TypeError);
    expect(() => createRedactor({ keys: [''] })).toThrow(/non-empty strings/);
    expect(() => createRedactor({ patterns: ['password' as unknown as RegExp] })).toThrow(/regular expressions/);
    expect(() => createRedactor({ patternFields: ['ip' as 'message'] })).toThrow(/may only name message, userAgent, data/);
    expect(() => createRedactor({ keys: 'password' as unknown as string[] })).toThrow(/must be an array/);
  });
});
