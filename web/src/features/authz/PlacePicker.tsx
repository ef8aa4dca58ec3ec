import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { ErrorText } from '../../ui/form';
import { Picker } from './Picker';

const listed = { query: { limit: 200 } } as const;

/**
 * A place in the hierarchy picked project → environment → service, among what the person sees;
 * `onChange` gets its path ("project", "project/env", "project/env/service", or "" for the
 * organization). `labels` name the three pickers.
 */
export function PlacePicker({ org, onChange, labels, top }: {
  org: string;
  onChange: (path: string) => void;
  labels: [string, string, string];
  top: string;
}) {
  const [project, setProject] = useState('');
  const [env, setEnv] = useState('');
  const [service, setService] = useState('');
  const projects = useQuery({
    queryKey: ['/api/v1/orgs/{org}/projects', org],
    queryFn: async () => unwrap(await api.GET('/api/v1/orgs/{org}/projects', { params: { path: { org }, ...listed } })),
  });
  const environments = useQuery({
    queryKey: ['/api/v1/orgs/{org}/projects/{project}/environments', org, project],
    queryFn: async () => unwrap(await api.GET('/api/v1/orgs/{org}/projects/{project}/environments', { params: { path: { org, project }, ...listed } })),
    enabled: project !== '',
  });
  const services = useQuery({
    queryKey: ['/api/v1/orgs/{org}/projects/{project}/environments/{env}/services', org, project, env],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/orgs/{org}/projects/{project}/environments/{env}/services', { params: { path: { org, project, env }, ...listed } })),
    enabled: project !== '' && env !== '',
  });
  const pick = (p: string, e: string, s: string) => {
    setProject(p);
    setEnv(e);
    setService(s);
    onChange([p, e, s].filter(Boolean).join('/'));
  };
  return (
    <>
      <Picker label={labels[0]} value={project} onChange={(value) => pick(value, '', '')}
        options={[{ value: '', label: top }, ...(projects.data?.items ?? []).map((p) => ({ value: p.slug, label: p.name }))]} />
      {project && (
        <Picker label={labels[1]} value={env} onChange={(value) => pick(project, value, '')}
          options={[{ value: '', label: 'The project itself' }, ...(environments.data?.items ?? []).map((e) => ({ value: e.slug, label: `${e.name} (${e.type})` }))]} />
      )}
      {env && (
        <Picker label={labels[2]} value={service} onChange={(value) => pick(project, env, value)}
          options={[{ value: '', label: 'The environment itself' }, ...(services.data?.items ?? []).map((s) => ({ value: s.slug, label: s.name }))]} />
      )}
      <ErrorText error={projects.error ?? environments.error ?? services.error} />
    </>
  );
}
