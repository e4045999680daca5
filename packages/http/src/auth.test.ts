import { describe, expect, it } from 'vitest';
import { secretTable } from './auth.js';
import { staticTokenKeys, staticTokens } from './new-api.js';

describe('secretTable', () => {
  it('finds the entry by secret and never returns the secret', () => {
    const lookUp = secretTable(
      [
        { token: 'alpha', role: 'admin' },
        { token: 'beta', role: 'user' },
      ],
      'token',
      'test',
    );
    expect(lookUp('beta')).toEqual({ role: 'user' });
    expect(lookUp('gamma')).toBeNull();
    expect(lookUp('')).toBeNull();
  });

  it('refuses empty secrets when the table is built, so an empty credential can never match', () => {
    expect(() => secretTable([{ token: '', role: 'admin' }], 'token', 'myTokens')).toThrow(/myTokens: every entry needs a non-empty token/);
    expect(() => staticTokens([{ token: '', userId: 1, role: 'admin' }])).toThrow(/staticTokens/);
    expect(() => staticTokenKeys([{ key: '', tokenId: 1, userId: 1 }])).toThrow(/staticTokenKeys/);
  });
});
