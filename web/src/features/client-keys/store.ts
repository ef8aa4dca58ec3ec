import { useSyncExternalStore } from 'react';
import type { UnlockedProject } from './crypto';

/**
 * Unlocked client-managed projects, in this page's memory only: never in storage, the query
 * cache or the URL. A reload, "Lock" or signing out forgets them.
 */
const unlocked = new Map<string, UnlockedProject>();
const listeners = new Set<() => void>();
const id = (org: string, project: string) => `${org}/${project}`;
const changed = () => listeners.forEach((listener) => listener());

export function remember(org: string, project: string, opened: UnlockedProject): void {
  unlocked.set(id(org, project), opened);
  changed();
}

export function lock(org: string, project: string): void {
  if (unlocked.delete(id(org, project))) changed();
}

/** Signing out: every key goes. */
export function lockAll(): void {
  if (unlocked.size === 0) return;
  unlocked.clear();
  changed();
}

const subscribe = (listener: () => void) => {
  listeners.add(listener);
  return () => listeners.delete(listener);
};

/** The project's key while it is unlocked in this page. */
export function useUnlocked(org: string, project: string | undefined): UnlockedProject | undefined {
  return useSyncExternalStore(subscribe, () => (project ? unlocked.get(id(org, project)) : undefined));
}
