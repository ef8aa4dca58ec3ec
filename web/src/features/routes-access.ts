import type { RouteObject } from 'react-router';

/**
 * The access pages (roles, the "Why?" explainer), each loaded when first visited so the first
 * page's script stays small.
 */
export const accessRoutes: RouteObject[] = [
  { path: 'orgs/:org/roles', lazy: async () => ({ Component: (await import('./roles/RolesPage')).RolesPage }) },
  { path: 'orgs/:org/roles/new', lazy: async () => ({ Component: (await import('./roles/RoleEditor')).RoleEditor }) },
  { path: 'orgs/:org/roles/:role', lazy: async () => ({ Component: (await import('./roles/RoleEditor')).RoleEditor }) },
  { path: 'orgs/:org/why', lazy: async () => ({ Component: (await import('./why/WhyPage')).WhyPage }) },
];
