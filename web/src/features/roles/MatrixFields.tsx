import type { ReactNode } from 'react';
import { Table } from '../../ui/table';
import { CLUSTER_LEVELS, ENVIRONMENT_SETS, ENVIRONMENT_TYPES, PROJECT_LEVELS, type ClusterLevel, type EnvironmentSet, type ProjectLevel } from './api';
import { projectEntry, type Matrix, type Places } from './matrix';

interface Props {
  matrix: Matrix;
  places: Places;
  onChange: (next: Matrix) => void;
}

/** A wide table's horizontal scroller, reachable by keyboard (so it can be scrolled without a mouse). */
export function Scroll({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="scroll" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

/** A select labelled for screen readers only (its row and column say what it is to the eye). */
function Cell<T extends string>(props: { label: string; value: T | ''; options: readonly (T | '')[]; disabled?: boolean; onChange: (value: T | '') => void }) {
  return (
    <select aria-label={props.label} value={props.value} disabled={props.disabled} onChange={(event) => props.onChange(event.target.value as T | '')}>
      {props.options.map((option) => (
        <option key={option} value={option}>{option === '' ? 'none' : option}</option>
      ))}
    </select>
  );
}

/** A level on each cluster of the organization (VIEWER, ENV_CREATOR, ADMIN) or none. */
export function ClusterLevels({ matrix, places, onChange }: Props) {
  return (
    <fieldset>
      <legend>Clusters</legend>
      {places.clusters.length === 0 && <p>This organization has no clusters.</p>}
      {places.clusters.map((c) => (
        <div key={c.id} className="field check">
          <Cell<ClusterLevel> label={`Level on cluster ${c.name}`} value={matrix.clusters[c.id] ?? ''} options={['', ...CLUSTER_LEVELS]}
            onChange={(value) => onChange({ ...matrix, clusters: { ...matrix.clusters, [c.id]: value } })} />
          <span aria-hidden="true">{c.name}</span>
        </div>
      ))}
    </fieldset>
  );
}

/** Seed 001's matrix: per project, a level per environment type, or project admin (every type, and the project itself). */
export function ProjectMatrix({ matrix, places, onChange }: Props) {
  return (
    <fieldset>
      <legend>Projects × environment types</legend>
      {places.projects.length === 0 ? (
        <p>This organization has no projects.</p>
      ) : (
        <Table caption="Project levels by environment type" columns={['Project', 'Project admin', ...ENVIRONMENT_TYPES]}>
          {places.projects.map((p) => {
            const entry = projectEntry(matrix, p.id);
            const set = (next: typeof entry) => onChange({ ...matrix, projects: { ...matrix.projects, [p.id]: next } });
            return (
              <tr key={p.id}>
                <th scope="row">{p.name}</th>
                <td>
                  <input type="checkbox" aria-label={`Admin of ${p.name}`} checked={entry.is_admin} onChange={(event) => set({ ...entry, is_admin: event.target.checked })} />
                </td>
                {ENVIRONMENT_TYPES.map((type) => (
                  <td key={type}>
                    <Cell<ProjectLevel> label={`${type} level in ${p.name}`} value={entry.is_admin ? 'ADMIN' : entry.levels[type]} options={PROJECT_LEVELS}
                      disabled={entry.is_admin} onChange={(value) => set({ ...entry, levels: { ...entry.levels, [type]: value || 'NO_ACCESS' } })} />
                  </td>
                ))}
              </tr>
            );
          })}
        </Table>
      )}
    </fieldset>
  );
}

/** Seed 004's permission sets, as checkboxes per environment. */
export function EnvironmentSets({ matrix, places, onChange }: Props) {
  const toggle = (id: string, set: EnvironmentSet, on: boolean) => {
    const current = matrix.environments[id] ?? [];
    const next = ENVIRONMENT_SETS.filter((s) => (s === set ? on : current.includes(s)));
    onChange({ ...matrix, environments: { ...matrix.environments, [id]: next } });
  };
  return (
    <fieldset>
      <legend>Permission sets per environment</legend>
      {places.environments.length === 0 ? (
        <p>This organization has no environments.</p>
      ) : (
        <Scroll label="Permission sets per environment, scrollable">
          <Table caption="Permission sets per environment" columns={['Environment', ...ENVIRONMENT_SETS.map((s) => s.replace(/_/g, ' ').toLowerCase())]}>
            {places.environments.map((e) => {
              const where = `${e.project_slug}/${e.slug}`;
              return (
                <tr key={e.id}>
                  <th scope="row">{where}</th>
                  {ENVIRONMENT_SETS.map((set) => (
                    <td key={set}>
                      <input type="checkbox" aria-label={`${set} on ${where}`} checked={(matrix.environments[e.id] ?? []).includes(set)}
                        onChange={(event) => toggle(e.id, set, event.target.checked)} />
                    </td>
                  ))}
                </tr>
              );
            })}
          </Table>
        </Scroll>
      )}
    </fieldset>
  );
}
