import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId } from 'react';
import { Navigate, NavLink, Outlet, useLocation, useNavigate, useParams } from 'react-router';
import { api, unwrap } from '../api/client';
import { useMe } from '../features/auth/session';
import { useCan } from '../features/authz/can';
import { lockAll } from '../features/client-keys/store';

/** The signed-in frame: organization switcher, navigation, sign-out; strangers go to sign-in. */
export function Shell() {
  const me = useMe();
  const { org } = useParams();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const switcher = useId();
  const location = useLocation();
  const canReadAudit = useCan(org ?? '', 'audit:read');
  const canManageTokens = useCan(org ?? '', 'token:manage');
  const logout = useMutation({
    mutationFn: async () => unwrap(await api.POST('/api/v1/auth/logout')),
    onSettled: () => {
      // Nothing of the session outlives it in the page.
      queries.clear();
      lockAll();
      navigate('/signin');
    },
  });

  if (me.isPending) return <p role="status">Loading…</p>;
  if (me.error) return <p role="alert">{me.error.message}</p>;
  // Back to where the person was going (an invitation link, a deep link) once signed in.
  if (!me.data) return <Navigate to="/signin" replace state={{ from: location.pathname + location.search }} />;
  const organizations = me.data.organizations;

  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Coffer</span>
        <div className="switcher">
          <label htmlFor={switcher}>Organization</label>
          <select
            id={switcher}
            value={org ?? ''}
            onChange={(event) => navigate(event.target.value === '' ? '/orgs/new' : `/orgs/${event.target.value}`)}
          >
            {!org && <option value="">Choose…</option>}
            {organizations.map((o) => (
              <option key={o.id} value={o.slug}>
                {o.name}
              </option>
            ))}
          </select>
          <NavLink to="/orgs/new">New organization</NavLink>
        </div>
        <NavLink className="who" to="/me/sessions" aria-label={`My sessions (${me.data.user.email})`}>
          {me.data.user.email}
        </NavLink>
        <button type="button" onClick={() => logout.mutate()}>
          Sign out
        </button>
      </header>
      {org && (
        <nav aria-label="Organization sections" className="tabs">
          <NavLink to={`/orgs/${org}`} end>
            Projects
          </NavLink>
          <NavLink to={`/orgs/${org}/variables`}>Organization variables</NavLink>
          <NavLink to={`/orgs/${org}/clusters`}>Clusters</NavLink>
          <NavLink to={`/orgs/${org}/members`}>Members</NavLink>
          <NavLink to={`/orgs/${org}/roles`}>Roles</NavLink>
          <NavLink to={`/orgs/${org}/why`}>Why?</NavLink>
          {canManageTokens && <NavLink to={`/orgs/${org}/tokens`}>API tokens</NavLink>}
          {canReadAudit && <NavLink to={`/orgs/${org}/audit`}>Audit log</NavLink>}
          <NavLink to={`/orgs/${org}/settings`}>Settings</NavLink>
        </nav>
      )}
      <main id="main">
        <Outlet />
      </main>
    </>
  );
}

/** `/`: the first organization, or creating one. */
export function Home() {
  const me = useMe();
  const first = me.data?.organizations[0];
  return <Navigate to={first ? `/orgs/${first.slug}` : '/orgs/new'} replace />;
}
