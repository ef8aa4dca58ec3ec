import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import { Field, FieldsetForm, Page, Select } from '../../ui/form';
import { CardList } from '../../ui/table';
import { useCan } from '../authz/can';
import { ManagePlace } from './ManagePlace';

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
      <CardList label="Projects" query={list} empty="No projects yet." card={(p) => (
        <><Link to={`/orgs/${org}/projects/${p.slug}`}>{p.name}</Link> <code>{p.slug}</code></>
      )} />
      {canCreate && (
        <CreateForm legend="New project" submit="Create project" mutation={create} onSubmit={(v) => create.mutate(named(v))} />
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
  const canWriteProject = useCan(org, 'project:write', project);
  const navigate = useNavigate();
  const create = useMutation({
    mutationFn: async (body: { slug: string; name?: string; type: (typeof ENVIRONMENT_TYPES)[number] }) =>
      unwrap(await api.POST('/api/v1/orgs/{org}/projects/{project}/environments', { params: { path }, body })),
    onSuccess: () => queries.invalidateQueries({ queryKey: key }),
  });
  return (
    <Page title={`Project ${project}`} actions={<Link to={`/orgs/${org}/projects/${project}/variables`}>Project variables</Link>}>
      <ManagePlace kind="project" slug={project} name={project} params={path} canRename={canWriteProject} canDelete={canWriteProject}
        onRenamed={() => queries.invalidateQueries({ queryKey: ['/api/v1/orgs/{org}/projects', org] })} onDeleted={() => navigate(`/orgs/${org}`)} />
      <h2>Environments</h2>
      <CardList label="Environments" query={list} empty="No environments yet." card={(e) => (
        <><Link to={`/orgs/${org}/projects/${project}/environments/${e.slug}`}>{e.name}</Link> <span className={`badge ${e.type.toLowerCase()}`}>{e.type}</span></>
      )} />
      {canCreate && (
        <CreateForm legend="New environment" submit="Create environment" mutation={create} choice={{ label: 'Type', name: 'type', options: ENVIRONMENT_TYPES }}
          onSubmit={(v) => create.mutate({ ...named(v), type: (v.type ?? 'DEVELOPMENT') as (typeof ENVIRONMENT_TYPES)[number] })} />
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
  const canRenameEnv = useCan(org, 'environment:write', `${project}/${env}`);
  const canDeleteEnv = useCan(org, 'environment:delete', `${project}/${env}`);
  const navigate = useNavigate();
  const create = useMutation({
    mutationFn: async (body: { slug: string; name?: string; kind: (typeof SERVICE_KINDS)[number] }) =>
      unwrap(await api.POST('/api/v1/orgs/{org}/projects/{project}/environments/{env}/services', { params: { path }, body })),
    onSuccess: () => queries.invalidateQueries({ queryKey: key }),
  });
  return (
    <Page title={`Environment ${env}`} actions={<span><Link to={`${base}/variables`}>Environment variables</Link> · <Link to={`${base}/effective`}>Effective configuration</Link></span>}>
      <p>
        <Link to={`/orgs/${org}/projects/${project}`}>Back to project {project}</Link>
      </p>
      <ManagePlace kind="environment" slug={env} name={env} params={path} canRename={canRenameEnv} canDelete={canDeleteEnv}
        onRenamed={() => queries.invalidateQueries({ queryKey: ['/api/v1/orgs/{org}/projects/{project}/environments', org, project] })}
        onDeleted={() => navigate(`/orgs/${org}/projects/${project}`)} />
      <h2>Services</h2>
      <CardList label="Services" query={list} empty="No services yet." card={(s) => (
        <ServiceCard service={s} base={base} path={path} onChanged={() => queries.invalidateQueries({ queryKey: key })} />
      )} />
      {canCreate && (
        <CreateForm legend="New service" submit="Create service" mutation={create} choice={{ label: 'Kind', name: 'kind', options: SERVICE_KINDS }}
          onSubmit={(v) => create.mutate({ ...named(v), kind: (v.kind ?? 'application') as (typeof SERVICE_KINDS)[number] })} />
      )}
    </Page>
  );
}

type ServiceItem = { slug: string; name: string; kind: string; outputs: Record<string, string> };

/** A service: its kind, its outputs (secret ones masked by the server), its variables, and rename/delete when permitted. */
function ServiceCard({ service: s, base, path, onChanged }: { service: ServiceItem; base: string; path: Params; onChanged: () => void }) {
  const place = `${path.project}/${path.env}/${s.slug}`;
  const canRename = useCan(path.org, 'service:write', place);
  const canDelete = useCan(path.org, 'service:delete', place);
  const outputs = Object.entries(s.outputs);
  return (
    <>
      {s.name} <span className="badge">{s.kind}</span> <Link to={`${base}/services/${s.slug}/variables`}>Variables of {s.name}</Link>
      {' · '}<Link to={`${base}/services/${s.slug}/effective`}>Effective configuration of {s.name}</Link>
      {outputs.length > 0 && (
        <dl className="outputs" aria-label={`Outputs of ${s.name}`}>
          {outputs.map(([name, value]) => (
            <div key={name}><dt>{name}</dt><dd><code>{value}</code></dd></div>
          ))}
        </dl>
      )}
      <ManagePlace kind="service" slug={s.slug} name={s.name} params={{ ...path, service: s.slug }} canRename={canRename} canDelete={canDelete} onRenamed={onChanged} onDeleted={onChanged} />
    </>
  );
}

function named(values: Record<string, string>): { slug: string; name?: string } {
  return values.name ? { slug: values.slug ?? '', name: values.name } : { slug: values.slug ?? '' };
}

/** Creating a project, environment or service: name, slug, and the one fixed choice some of them have (type, kind). */
function CreateForm(props: {
  legend: string;
  submit: string;
  mutation: { error: unknown; isPending: boolean };
  choice?: { label: string; name: string; options: readonly string[] };
  onSubmit: (values: Record<string, string>) => void;
}) {
  const { choice } = props;
  return (
    <FieldsetForm legend={props.legend} submit={props.submit} error={props.mutation.error} pending={props.mutation.isPending} onSubmit={props.onSubmit}>
      <Field label="Name" name="name" />
      <Field label="Slug" name="slug" required hint="Lower-case letters, digits and dashes" />
      {choice && <Select label={choice.label} name={choice.name} options={choice.options} />}
    </FieldsetForm>
  );
}
