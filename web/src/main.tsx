import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createBrowserRouter, RouterProvider } from 'react-router';
import { ApiError } from './api/client';
import { AuditPage } from './features/audit/AuditPage';
import { AcceptInvitation } from './features/auth/AcceptInvitation';
import { MySessions } from './features/auth/MySessions';
import { SignIn } from './features/auth/SignIn';
import { SignUp } from './features/auth/SignUp';
import { EnvironmentsPage, ProjectsPage, ServicesPage } from './features/hierarchy/pages';
import { MembersPage } from './features/members/MembersPage';
import { CreateOrg } from './features/orgs/CreateOrg';
import { OrgSettings } from './features/orgs/OrgSettings';
import { accessRoutes } from './features/routes-access';
import { TokensPage } from './features/tokens/TokensPage';
import { VariablesPage } from './features/variables/VariablesPage';
import { NotFound } from './ui/NotFound';
import { Home, Shell } from './ui/Shell';
import './ui/styles.css';

const project = 'orgs/:org/projects/:project';
const env = `${project}/environments/:env`;

const effectiveConfig = async () => ({ Component: (await import('./features/config/EffectiveConfigPage')).EffectiveConfigPage });

const router = createBrowserRouter([
  { path: '/signin', element: <SignIn /> },
  { path: '/signup', element: <SignUp /> },
  {
    element: <Shell />,
    children: [
      { index: true, element: <Home /> },
      { path: 'orgs/new', element: <CreateOrg /> },
      { path: 'me/sessions', element: <MySessions /> },
      { path: 'invitations/:token', element: <AcceptInvitation /> },
      { path: 'orgs/:org', element: <ProjectsPage /> },
      { path: 'orgs/:org/variables', element: <VariablesPage /> },
      { path: 'orgs/:org/clusters', lazy: async () => ({ Component: (await import('./features/hierarchy/ClustersPage')).ClustersPage }) },
      { path: 'orgs/:org/members', element: <MembersPage /> },
      { path: 'orgs/:org/audit', element: <AuditPage /> },
      { path: 'orgs/:org/tokens', element: <TokensPage /> },
      { path: 'orgs/:org/settings', element: <OrgSettings /> },
      { path: project, element: <EnvironmentsPage /> },
      { path: `${project}/variables`, element: <VariablesPage /> },
      { path: env, element: <ServicesPage /> },
      { path: `${env}/variables`, element: <VariablesPage /> },
      { path: `${env}/services/:service/variables`, element: <VariablesPage /> },
      ...accessRoutes,
      // Loaded when first opened: the first page ships without it.
      { path: `${env}/effective`, lazy: effectiveConfig },
      { path: `${env}/services/:service/effective`, lazy: effectiveConfig },
      { path: '*', element: <NotFound /> },
    ],
  },
]);

const queries = new QueryClient({
  defaultOptions: {
    // A refusal (4xx) will not change by asking again.
    queries: { retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2 },
  },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queries}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  </StrictMode>,
);
