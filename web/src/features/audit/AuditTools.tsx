import { useMutation } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { ErrorText } from '../../ui/form';

/**
 * Export with the current filters (the server streams the file; the session cookie authorizes
 * the download like any request), verifying the hash chain, and the signed checkpoint of its head.
 */
export function AuditTools({ org, filters, onShowEvent }: { org: string; filters: Record<string, string>; onShowEvent: (id: string) => void }) {
  const base = `/api/v1/orgs/${encodeURIComponent(org)}/audit-events`;
  const exportUrl = (format: 'jsonl' | 'csv') => `${base}/export?${new URLSearchParams({ ...filters, format }).toString()}`;
  const verify = useMutation({
    mutationFn: async () => unwrap(await api.GET('/api/v1/orgs/{org}/audit-events/verify', { params: { path: { org } } })),
  });
  const result = verify.data;
  return (
    <section aria-labelledby="audit-tools" className="notice">
      <h2 id="audit-tools">Export and integrity</h2>
      <p>
        Export the events matching the filters: <a href={exportUrl('jsonl')} download>Download JSON lines</a>{' · '}
        <a href={exportUrl('csv')} download>Download CSV</a>
      </p>
      <p>
        <a href={`${base}/checkpoint`} download={`${org}-audit-checkpoint.json`}>Download a signed checkpoint</a>{' · '}
        <a href={`${base}/checkpoint-key`} download={`${org}-audit-checkpoint-key.json`}>Download the checkpoint public key</a>
        <br />
        <small className="hint">Keep checkpoints outside Coffer: a later chain that does not extend one shows tampering.</small>
      </p>
      <button type="button" onClick={() => verify.mutate()} disabled={verify.isPending}>Verify chain</button>
      <ErrorText error={verify.error} />
      {result && (
        <div role="status">
          {result.ok ? (
            <p>Chain intact: {result.checked} events checked.</p>
          ) : (
            <p>
              Chain broken after {result.checked} events{result.reason ? `: ${result.reason}` : ''}.{' '}
              {result.first_bad_id && (
                <button type="button" onClick={() => onShowEvent(result.first_bad_id!)}>Show the first broken event</button>
              )}
            </p>
          )}
        </div>
      )}
    </section>
  );
}
