import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import { ErrorText, Field, Page, Select, formValues } from '../../ui/form';
import { useCan } from '../authz/can';

const ENVIRONMENT_TYPES = ['DEVELOPMENT', 'PREVIEW', 'STAGING', 'PRODUCTION'] as const;
const SERVICE_KINDS = ['application', 'database', 'job', 'container'] as const;

type Params = { org: string; project: string; env: string };
const useScope = () => useParams() as Params;

/** The projects of an organization the person sees (hidden ones are simply absent: the API leaves them out). */
export function ProjectsPage() {
  const { org } = useScope();
  const queries = useQueryClient();
  const key = ['/api/v1/orgs/{org}/projects', org];
  const list = useQuery({ queryKey: key, queryFn: async () => unwrap(await api.GET('/api/v1/orgs/{org}/projects', { params: { path: { org } } })) });
  const canCreate = useCan(org, 'project:create');
  const create = useMutation({
    mutationFn: async (body: { slug: string; name?: string }) => unwrap(await api.POST('/api/v1/orgs/{org}/projects', { params: { path: { org } }, body })),
    onSuccess: () => queries.invalidateQueries({ queryKey: key }),
  });
  return (
    <Page title="Projects">
      <ErrorText error={list.error} />
      <ul className="cards" aria-label="Projects">
        {list.data?.items.map((p) => (
          <li key={p.id}>
            <Link to={`/orgs/${org}/projects/${p.slug}`}>{p.name}</Link> <code>{p.slug}</code>
          </li>
        ))}
      </ul>
      {list.data?.items.length === 0 && <p>No projects yet.</p>}
      {canCreate && (
        <CreateForm legend="New project" submit="Create project" error={create.error} pending={create.isPending} onSubmit={(v) => create.mutate(named(v))} />
      )}
    </Page>
  );
}

/** A project's environments, each with its type as a badge. */
export function EnvironmentsPage() {
  const { org, project } = useScope();
  const queries = useQueryClient();
  const path = { org, project };
  const key = ['/api/v1/orgs/{org}/projects/{project}/environments', org, project];
  const list = useQuery({ queryKey: key, queryFn: async () => unwrap(await api.GET('/api/v1/orgs/{org}/projects/{project}/environments', { params: { path } })) });
  const canCreate = useCan(org, 'environment:create', project);
  const create = useMutation({
    mutationFn: async (body: { slug: string; name?: string; type: (typeof ENVIRONMENT_TYPES)[number] }) =>
      unwrap(await api.POST('/api/v1/orgs/{org}/projects/{project}/environments', { params: { path }, body })),
    onSuccess: () => queries.invalidateQueries({ queryKey: key }),
  });
  return (
    <Page title={`Project ${project}`} actions={<Link to={`/orgs/${org}/projects/${project}/variables`}>Project variables</Link>}>
      <h2>Environments</h2>
      <ErrorText error={list.error} />
      <ul className="cards" aria-label="Environments">
        {list.data?.items.map((e) => (
          <li key={e.id}>
            <Link to={`/orgs/${org}/projects/${project}/environments/${e.slug}`}>{e.name}</Link> <span className={`badge ${e.type.toLowerCase()}`}>{e.type}</span>
          </li>
        ))}
      </ul>
      {list.data?.items.length === 0 && <p>No environments yet.</p>}
      {canCreate && (
        <CreateForm legend="New environment" submit="Create environment" error={create.error} pending={create.isPending}
          onSubmit={(v) => create.mutate({ ...named(v), type: (v.type ?? 'DEVELOPMENT') as (typeof ENVIRONMENT_TYPES)[number] })}>
          <Select label="Type" name="type" options={ENVIRONMENT_TYPES} />
        </CreateForm>
      )}
    </Page>
  );
}

/** An environment's services, with the environment's variables one link away. */
export function ServicesPage() {
  const { org, project, env } = useScope();
  const queries = useQueryClient();
  const path = { org, project, env };
  const base = `/orgs/${org}/projects/${project}/environments/${env}`;
  const key = ['/api/v1/orgs/{org}/projects/{project}/environments/{env}/services', org, project, env];
  const list = useQuery({ queryKey: key, queryFn: async () => unwrap(await api.GET('/api/v1/orgs/{org}/projects/{project}/environments/{env}/services', { params: { path } })) });
  const canCreate = useCan(org, 'service:create', `${project}/${env}`);
  const create = useMutation({
    mutationFn: async (body: { slug: string; name?: string; kind: (typeof SERVICE_KINDS)[number] }) =>
      unwrap(await api.POST('/api/v1/orgs/{org}/projects/{project}/environments/{env}/services', { params: { path }, body })),
    onSuccess: () => queries.invalidateQueries({ queryKey: key }),
  });
  return (
    <Page title={`Environment ${env}`} actions={<Link to={`${base}/variables`}>Environment variables</Link>}>
      <p>
        <Link to={`/orgs/${org}/projects/${project}`}>Back to project {project}</Link>
      </p>
      <h2>Services</h2>
      <ErrorText error={list.error} />
      <ul className="cards" aria-label="Services">
        {list.data?.items.map((s) => (
          <li key={s.id}>
            {s.name} <span className="badge">{s.kind}</span> <Link to={`${base}/services/${s.slug}/variables`}>Variables of {s.name}</Link>
          </li>
        ))}
      </ul>
      {list.data?.items.length === 0 && <p>No services yet.</p>}
      {canCreate && (
        <CreateForm legend="New service" submit="Create service" error={create.error} pending={create.isPending}
          onSubmit={(v) => create.mutate({ ...named(v), kind: (v.kind ?? 'application') as (typeof SERVICE_KINDS)[number] })}>
          <Select label="Kind" name="kind" options={SERVICE_KINDS} />
        </CreateForm>
      )}
    </Page>
  );
}

function named(values: Record<string, string>): { slug: string; name?: string } {
  return values.name ? { slug: values.slug ?? '', name: values.name } : { slug: values.slug ?? '' };
}

function CreateForm(props: {
  legend: string;
  submit: string;
  error: unknown;
  pending: boolean;
  onSubmit: (values: Record<string, string>) => void;
  children?: React.ReactNode;
}) {
  return (
    <form className="create" onSubmit={(event) => props.onSubmit(formValues(event))}>
      <fieldset>
        <legend>{props.legend}</legend>
        <Field label="Name" name="name" />
        <Field label="Slug" name="slug" required hint="Lower-case letters, digits and dashes" />
        {props.children}
        <ErrorText error={props.error} />
        <button type="submit" disabled={props.pending}>{props.submit}</button>
      </fieldset>
    </form>
  );
}
