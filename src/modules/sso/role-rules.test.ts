import { describe, expect, it } from 'vitest';
import { claimValues, roleFor, type RoleRule } from './role-rules.js';

const rule = (value: string | null, role: string, role_name: string | null = null): RoleRule => ({ value, role, role_id: role_name ? `id-${role_name}` : null, role_name });

describe('SSO role rules', () => {
  const rules = [rule('platform', 'DEVOPS'), rule('everyone', 'VIEWER'), rule('admins', 'ADMIN'), rule('ops-lite', 'CUSTOM', 'Operator'), rule(null, 'MEMBER')];

  it('gives the highest role among the matched values, whatever their order', () => {
    expect(roleFor(rules, ['everyone', 'platform'])?.role).toBe('DEVOPS');
    expect(roleFor(rules, ['platform', 'admins', 'everyone'])?.role).toBe('ADMIN');
    expect(roleFor(rules, ['everyone', 'ops-lite'])?.role).toBe('VIEWER');
    expect(roleFor(rules, ['ops-lite'])?.role_name).toBe('Operator');
  });

  it('falls back to the default rule, and to nothing without one', () => {
    expect(roleFor(rules, ['unmapped'])?.role).toBe('MEMBER');
    expect(roleFor(rules.filter((r) => r.value !== null), ['unmapped'])).toBeUndefined();
    expect(roleFor([], [])).toBeUndefined();
  });

  it('reads a claim as a list of strings or one string', () => {
    expect(claimValues(['a', 3, 'b'])).toEqual(['a', 'b']);
    expect(claimValues('a')).toEqual(['a']);
    expect(claimValues({ a: 1 })).toEqual([]);
    expect(claimValues(undefined)).toEqual([]);
  });
});
