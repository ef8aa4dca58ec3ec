import { ACTIONS, isAction, type Action } from '../../kernel/authz/catalogue.js';
import { PERSON_ONLY_ACTIONS } from '../../kernel/authz/token-scopes.js';

/** SPEC §5 presets, given as {"preset": …} in place of scopes. */
export const PRESETS = {
  'read-only': ['organization:read', 'project:read', 'environment:read', 'service:read', 'secret:read'],
  ci: ['organization:read', 'project:read', 'environment:read', 'service:read', 'secret:read', 'secret:decrypt'],
} as const satisfies Record<string, readonly Action[]>;
export type Preset = keyof typeof PRESETS;

/** The actions a token may hold: the catalogue less what only people do. */
const TOKEN_ACTIONS = ACTIONS.filter((action) => !PERSON_ONLY_ACTIONS.has(action));

/**
 * Scopes are actions, `resource:*` or `*`; returns the actions they match, the unknown
 * ones, and the person-only actions named outright (which no token may carry).
 */
export function expandScopes(scopes: readonly string[]): { actions: Set<Action>; unknown: string[]; personOnly: Action[] } {
  const actions = new Set<Action>();
  const unknown: string[] = [];
  const personOnly: Action[] = [];
  for (const scope of scopes) {
    if (scope === '*') TOKEN_ACTIONS.forEach((action) => actions.add(action));
    else if (scope.endsWith(':*')) {
      const prefix = scope.slice(0, -1);
      if (!ACTIONS.some((action) => action.startsWith(prefix))) unknown.push(scope);
      TOKEN_ACTIONS.filter((action) => action.startsWith(prefix)).forEach((action) => actions.add(action));
    } else if (isAction(scope)) {
      if (PERSON_ONLY_ACTIONS.has(scope)) personOnly.push(scope);
      else actions.add(scope);
    } else unknown.push(scope);
  }
  return { actions, unknown, personOnly };
}
